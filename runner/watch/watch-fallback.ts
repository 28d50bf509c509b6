/**
 * What the watcher does for the paths the kernel would not watch (the inotify watch limit
 * reached, ENOSPC; or no inotify instance or fd left, EMFILE): it polls them, so that no save
 * is missed, and says so in one line — not one line per folder refused, and never a count
 * that claims them as watched.
 */
import { statSync, unwatchFile, watchFile } from 'node:fs';
import { FolderPoller } from './folder-poller';
import { describeWatchLimit } from './watch-limit';

/** How often the folders past the limit are looked at (at most; a huge set, less often). */
export const POLL_MS = 250;

export type WatchFallbackOptions = {
  isIgnored: (path: string, isDirectory: boolean) => boolean;
  /** A polled file changed, was created or was deleted. */
  onChange: (path: string) => void;
  /** A folder appeared in a polled one: the watcher tries to watch it (it may come back here). */
  onFolder: (path: string) => void;
  onWarning: (message: string) => void;
};

export class WatchFallback {
  private readonly poller: FolderPoller;
  /** Single files refused (the config file outside the project), polled by Node's stat watcher. */
  private readonly files = new Set<string>();
  /** The error code of the first refusal. */
  private refused: string | undefined;
  private walkDone = false;
  private reported = false;

  constructor(private readonly options: WatchFallbackOptions) {
    this.poller = new FolderPoller({ intervalMs: POLL_MS, ...options });
  }

  /** Folders polled instead of watched. */
  get folders(): number {
    return this.poller.size;
  }

  /** The kernel refused to watch `path` (a folder, or a file watched on its own) with `code`. */
  add(path: string, code: string): void {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      return; // gone already: nothing to watch
    }
    if (isDirectory) this.poller.add(path);
    else if (!this.files.has(path)) {
      this.files.add(path);
      watchFile(path, { interval: POLL_MS }, () => this.options.onChange(path));
    }
    this.refused ??= code;
    if (this.walkDone) this.report();
  }

  /** The first walk is done: what it could not watch is reported now, as one line; later refusals at once. */
  walked(): void {
    this.walkDone = true;
    if (this.refused) this.report();
  }

  private report(): void {
    if (this.reported || !this.refused) return;
    this.reported = true;
    this.options.onWarning(describeWatchLimit(this.refused, this.poller.size + this.files.size, POLL_MS));
  }

  close(): void {
    this.poller.close();
    for (const file of this.files) unwatchFile(file);
  }
}
