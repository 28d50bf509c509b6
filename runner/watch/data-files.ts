/**
 * Files the app writes as it runs are data, not source, and must not cycle it: every vote in
 * Django's tutorial writes `db.sqlite3` (and its `-journal`), every request of FastAPI's
 * `sql_app.db` tutorial its database. Names do not tell (`.db` is also a plain text file's
 * name, and a database may have any name), the file's header does: every SQLite database
 * begins with the 16 bytes `SQLite format 3\0`. Its companions (`-journal`, `-wal`, `-shm`)
 * come and go during each transaction and are judged by the database they belong to.
 *
 * Only files that changed and are not ignored otherwise get this check, and a database, once
 * known, is not read again for a second: a busy database writes many times a second.
 */
import { readFileHead } from '../fs/read-regular-file';

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');
const COMPANION = /-(journal|wal|shm)$/;
/** How long a file found to be a database is taken for one without reading it again. */
const RECHECK_MS = 1000;

/** Whether the file at `path` begins with SQLite's header (reads 16 bytes of a regular file). */
export function isSqliteDatabase(path: string): boolean {
  const head = readFileHead(path, SQLITE_HEADER.length);
  return head.ok && head.data.equals(SQLITE_HEADER);
}

export class DataFiles {
  /** Databases found, and until when that verdict stands. */
  private readonly known = new Map<string, number>();
  /** The databases already reported. */
  private readonly reported = new Set<string>();

  /** `onDatabase` hears of each database once, the first time a change to it is left out. */
  constructor(private readonly onDatabase: (path: string) => void = () => undefined) {}

  /** Whether a change to `path` is a change to data: a SQLite database or one of its companions. */
  isData(path: string, now = Date.now()): boolean {
    const companion = COMPANION.exec(path);
    if (companion && this.isDatabase(path.slice(0, companion.index), now)) return true;
    return this.isDatabase(path, now);
  }

  private isDatabase(path: string, now: number): boolean {
    if ((this.known.get(path) ?? 0) > now) return true;
    if (!isSqliteDatabase(path)) {
      this.known.delete(path);
      return false;
    }
    this.known.set(path, now + RECHECK_MS);
    if (!this.reported.has(path)) {
      this.reported.add(path);
      this.onDatabase(path);
    }
    return true;
  }
}
