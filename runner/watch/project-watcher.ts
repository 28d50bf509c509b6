/**
 * The arbiter's one watcher (never one per worker): chokidar over the project, with the ignore
 * rules applied while it walks — an ignored folder such as node_modules is never read — and
 * events batched into reload requests.
 *
 * chokidar watches the folders only. Left to itself it also opens a watcher per file, which
 * on a tree of 20,000 files costs the arbiter ~200 MB; a folder's watcher already reports
 * every write, creation, deletion and rename of the files in it, by name. Those raw events
 * are also the fast path: chokidar's processed ones lag (it finds new files by re-reading their
 * folder, in waves tens of milliseconds apart, and drops a second change to a file within
 * 50 ms of the first). A file counts as changed only when it differs from what the last batch
 * holding it saw, so repeated events for one write collapse into one change.
 */
import { watch, type FSWatcher } from 'chokidar';
import { statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { ChangeBatcher, DEFAULT_BATCH, type BatchOptions } from './change-batcher';
import { DataFiles } from './data-files';
import { FolderVisits } from './folder-visits';
import type { IgnoreRules } from './ignore-rules';
import { WatchFallback } from './watch-fallback';
import { LIMIT_ERRORS } from './watch-limit';

const MISSING = 'missing';
const DIRECTORY = 'directory';
/** A FIFO, a socket, a device: nothing a program loads as source, and nothing to read. */
const SPECIAL = 'special';
/** A file known to exist before it was deleted, never read by a batch: its deletion counts. */
const KNOWN = 'known';

/** What a path looks like from outside: enough to tell that a file was written again. */
function fingerprint(path: string): string {
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) return DIRECTORY;
    return stat.isFile() ? `${stat.mtimeMs}:${stat.size}:${stat.ino}` : SPECIAL;
  } catch {
    return MISSING;
  }
}

/** A file that is there and not empty: a save that has written it (see change-batcher.ts). */
function hasContent(path: string): boolean {
  try {
    const stat = statSync(path);
    return stat.isFile() && stat.size > 0;
  } catch {
    return false;
  }
}

export type ProjectWatcherOptions = {
  root: string;
  rules: IgnoreRules;
  /** Files outside the rules that always count (the config file). */
  alwaysWatched: readonly string[];
  /** `openedAt` (epoch ms): when the first of the files changed. */
  onBatch: (files: string[], openedAt: number) => void;
  onError: (error: Error) => void;
  /** A file whose changes are left out from now on (a database), once per file. */
  onIgnored?: (file: string, reason: string) => void;
  /** Something the watcher could not do as asked, and what it does instead (the inotify limit). */
  onWarning?: (message: string) => void;
  batch?: BatchOptions;
};

export class ProjectWatcher {
  private readonly watcher: FSWatcher;
  private readonly batcher: ChangeBatcher;
  private readonly data: DataFiles;
  /** The folders the kernel would not watch, polled instead. */
  private readonly fallback: WatchFallback;
  /** Each file's fingerprint when the last batch holding it closed: what its cycle read. */
  private readonly seen = new Map<string, string>();
  private readonly always: ReadonlySet<string>;
  /** Every watched file the walk found: a name that vanishes from this set was deleted. */
  private readonly files = new Set<string>();
  private scanned = false;
  /**
   * When the walk began: a file it finds written after that changed while it walked. Rounded
   * up, so a file written in the same millisecond before it never counts; a file's mtime comes
   * from the kernel's coarse clock (a few ms behind), so a save in the first few ms may not.
   */
  private readonly walkStartedAt = Date.now() + 1;
  /** Resolves once the initial scan is done: from then on every file is watched. */
  readonly ready: Promise<void>;

  constructor(private readonly options: ProjectWatcherOptions) {
    const { root, rules, alwaysWatched } = options;
    this.always = new Set(alwaysWatched);
    const folders = new FolderVisits(root);
    this.batcher = new ChangeBatcher(
      (files, at) => this.flush(files, at),
      options.batch ?? DEFAULT_BATCH,
      hasContent,
    );
    this.data = new DataFiles((file) => options.onIgnored?.(file, 'a SQLite database: data, not source'));
    const outside = alwaysWatched.filter((file) => relative(root, file).startsWith('..'));
    this.watcher = watch([root, ...outside], {
      ignoreInitial: true,
      ignored: (path, stats) => {
        if (this.always.has(path)) return false;
        if (rules.isIgnored(path, stats?.isDirectory())) return true;
        // Asked again once chokidar has the stats (a symlink's once more, with its target's); a
        // file is left to its folder's watcher, and a FIFO, socket or device is never watched.
        if (!stats) return false;
        if (stats.isSymbolicLink()) return folders.skipsLink(path);
        if (stats.isDirectory()) return folders.isRevisit(path, stats);
        if (stats.isFile()) this.found(path, stats.mtimeMs);
        return true;
      },
    });
    // Only the files always watched (the config file) get chokidar events of their own.
    this.watcher.on('all', (event, path) => {
      if (event !== 'addDir' && event !== 'unlinkDir') this.consider(path, true);
    });
    this.watcher.on('raw', (_event, name, details) => {
      const watched = (details as { watchedPath?: string } | undefined)?.watchedPath;
      if (!watched || !name) return;
      // A folder's watcher names a child; a file's watcher names the file itself.
      this.consider(join(watched, name), false);
      if (basename(watched) === name) this.consider(watched, false);
    });
    this.fallback = new WatchFallback({
      isIgnored: (path, isDirectory) => rules.isIgnored(path, isDirectory),
      onChange: (path) => this.consider(path, true),
      onFolder: (path) => this.watcher.add(path),
      onWarning: (message) => options.onWarning?.(message),
    });
    this.watcher.on('error', (error) => {
      const { code, path } = error as NodeJS.ErrnoException;
      if (code && path && LIMIT_ERRORS.has(code)) return this.fallback.add(path, code);
      options.onError(error as Error);
    });
    this.ready = new Promise((resolve) =>
      this.watcher.once('ready', () => {
        this.scanned = true;
        this.fallback.walked();
        resolve();
      }),
    );
  }

  /**
   * What is watched: the files the walk found, the folders with a watcher of their own, and
   * those polled instead (chokidar lists them as watched too).
   */
  counts(): { files: number; folders: number; polled: number } {
    // chokidar also lists the folder above each watched root, which it does not watch.
    const root = this.options.root;
    const folders = Object.keys(this.watcher.getWatched()).filter(
      (dir) => !relative(root, dir).startsWith('..'),
    );
    const polled = this.fallback.folders;
    return { files: this.files.size, folders: folders.length - polled, polled };
  }

  /**
   * A file the walk came across. After the initial scan, a file not seen before is new — in a
   * folder that appeared with files already in it (a checkout, a `mv`), which no watcher saw
   * being written. During the scan, one written since the walk began was saved before its
   * folder's watcher existed (chokidar watches a folder before reading it, so later saves are
   * seen as they happen).
   */
  private found(path: string, mtimeMs: number): void {
    if (this.files.has(path)) return;
    this.files.add(path);
    if (this.scanned || mtimeMs > this.walkStartedAt) this.consider(path, true);
  }

  /** A path something happened to: a change, if it is watched and not what was last read. */
  private consider(path: string, fromChokidar: boolean): void {
    if (basename(path) === '.gitignore') this.options.rules.invalidate(path);
    if (this.batcher.has(path)) return this.batcher.touch();
    if (!this.always.has(path)) {
      const { rules } = this.options;
      if (rules.isIgnored(path, false) || !rules.triggers(path)) return;
    }
    const now = fingerprint(path);
    if (now === DIRECTORY || now === SPECIAL) return;
    const last = this.seen.get(path);
    if (now === last) return; // a batch already covered this version
    if (!this.always.has(path) && this.data.isData(path)) return;
    // Nothing there and no history: a name that came and went (an editor's temp file), or a
    // raw event read the wrong way round (a file's name joined to itself).
    if (now === MISSING && last === undefined) {
      if (!fromChokidar && !this.files.has(path)) return;
      this.seen.set(path, KNOWN);
    }
    if (now === MISSING) this.files.delete(path);
    else this.files.add(path);
    this.batcher.add(path);
  }

  private flush(files: string[], openedAt: number): void {
    const changed: string[] = [];
    for (const file of files) {
      const now = fingerprint(file);
      // Created and deleted within the batch (a temp file): nothing of it is left to load.
      if (now === MISSING && !this.seen.has(file)) {
        this.files.delete(file);
        continue;
      }
      this.seen.set(file, now);
      // A database that was still empty when its first change came (SQLite creating it).
      if (!this.always.has(file) && this.data.isData(file)) continue;
      changed.push(file);
    }
    if (changed.length > 0) this.options.onBatch(changed, openedAt);
  }

  async close(): Promise<void> {
    this.batcher.dispose();
    this.fallback.close();
    await this.watcher.close();
  }
}
