/**
 * Watches, by looking, the folders the kernel would not watch (past the inotify limit): each
 * pass lists every such folder and stats the files in it, and reports each file that differs
 * from the last pass — written, created or deleted — so that no save there is missed, only
 * seen later. A folder that appears inside one is handed back, for the watcher to try.
 *
 * A pass starts `intervalMs` after the last one ended, or 20 times as long as that pass took
 * if longer: on a huge tree past the limit, polling never takes more than ~5% of the thread.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type FolderPollerOptions = {
  intervalMs: number;
  /** Whether the watcher skips `path` anyway (ignore rules); such entries are never stat'ed. */
  isIgnored: (path: string, isDirectory: boolean) => boolean;
  /** A file in a polled folder changed (or was created, or deleted). */
  onChange: (path: string) => void;
  /** A folder appeared in a polled folder. */
  onFolder: (path: string) => void;
};

/** A polled folder's last look: each file's fingerprint, and its subfolders' names. */
type Snapshot = { files: Map<string, string>; folders: Set<string> };

const MAX_SHARE = 20;

function fingerprintOf(path: string): string | undefined {
  try {
    const stats = statSync(path);
    return stats.isFile() ? `${stats.mtimeMs}:${stats.size}:${stats.ino}` : undefined;
  } catch {
    return undefined;
  }
}

export class FolderPoller {
  private readonly snapshots = new Map<string, Snapshot>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: FolderPollerOptions) {}

  /** How many folders are polled. */
  get size(): number {
    return this.snapshots.size;
  }

  /** Starts polling `folder`: what is in it now is the base, not a change. */
  add(folder: string): void {
    if (this.closed || this.snapshots.has(folder)) return;
    this.snapshots.set(folder, this.look(folder, undefined) ?? { files: new Map(), folders: new Set() });
    this.timer ??= setTimeout(() => this.pass(), this.options.intervalMs);
  }

  remove(folder: string): void {
    this.snapshots.delete(folder);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private pass(): void {
    const startedAt = performance.now();
    for (const [folder, last] of this.snapshots) {
      const now = this.look(folder, last);
      if (now) this.snapshots.set(folder, now);
      else {
        // The folder is gone, and with it every file it held.
        this.snapshots.delete(folder);
        for (const name of last.files.keys()) this.options.onChange(join(folder, name));
      }
    }
    const took = performance.now() - startedAt;
    this.timer = this.closed
      ? undefined
      : setTimeout(() => this.pass(), Math.max(this.options.intervalMs, took * MAX_SHARE));
  }

  /** What `folder` holds now, reporting what differs from `last`; undefined if it is gone. */
  private look(folder: string, last: Snapshot | undefined): Snapshot | undefined {
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return undefined;
    }
    const now: Snapshot = { files: new Map(), folders: new Set() };
    for (const entry of entries) {
      const path = join(folder, entry.name);
      const isDirectory = entry.isDirectory();
      if (this.options.isIgnored(path, isDirectory)) continue;
      if (isDirectory) {
        now.folders.add(entry.name);
        if (last && !last.folders.has(entry.name)) this.options.onFolder(path);
        continue;
      }
      // Symlinks too: a link to a file is a file to the app.
      if (!entry.isFile() && !entry.isSymbolicLink()) continue;
      const fingerprint = fingerprintOf(path);
      if (fingerprint === undefined) continue;
      now.files.set(entry.name, fingerprint);
      if (last && last.files.get(entry.name) !== fingerprint) this.options.onChange(path);
    }
    if (last)
      for (const name of last.files.keys())
        if (!now.files.has(name)) this.options.onChange(join(folder, name));
    return now;
  }
}
