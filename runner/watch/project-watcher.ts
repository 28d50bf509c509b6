/**
 * The arbiter's one watcher (never one per worker): chokidar over the project, with the ignore
 * rules applied while it walks — an ignored folder such as node_modules is never read — and
 * events batched into reload requests.
 */
import { watch, type FSWatcher } from 'chokidar';
import { statSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { ChangeBatcher, DEFAULT_BATCH, type BatchOptions } from './change-batcher';
import type { IgnoreRules } from './ignore-rules';

/** chokidar's per-file throttle on change events. */
const CHOKIDAR_THROTTLE_MS = 50;

/** What a file looks like from outside: enough to tell that it was written again. */
function fingerprint(path: string): string {
  try {
    const stat = statSync(path);
    return `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
  } catch {
    return 'missing';
  }
}

export type ProjectWatcherOptions = {
  root: string;
  rules: IgnoreRules;
  /** Files outside the rules that always count (the config file). */
  alwaysWatched: readonly string[];
  onBatch: (files: string[]) => void;
  onError: (error: Error) => void;
  batch?: BatchOptions;
};

export class ProjectWatcher {
  private readonly watcher: FSWatcher;
  private readonly batcher: ChangeBatcher;
  private readonly rechecks = new Map<string, NodeJS.Timeout>();
  /** Each file's fingerprint when its last batch closed. */
  private readonly flushed = new Map<string, string>();
  readonly ready: Promise<void>;

  constructor(options: ProjectWatcherOptions) {
    const { root, rules, alwaysWatched } = options;
    const always = new Set(alwaysWatched);
    this.batcher = new ChangeBatcher((files) => {
      // What the cycle will read: a later look compares against this, not against the moment
      // of the event (which can fall between an in-place save's truncate and its write).
      for (const file of files) this.flushed.set(file, fingerprint(file));
      options.onBatch(files);
    }, options.batch ?? DEFAULT_BATCH);
    const outside = alwaysWatched.filter((file) => relative(root, file).startsWith('..'));
    this.watcher = watch([root, ...outside], {
      ignoreInitial: true,
      ignored: (path, stats) => !always.has(path) && rules.isIgnored(path, stats?.isDirectory()),
    });
    this.watcher.on('all', (event, path) => {
      if (event === 'addDir') return;
      if (basename(path) === '.gitignore') rules.invalidate(path);
      if (!always.has(path) && !rules.triggers(path)) return;
      this.batcher.add(path);
      if (event === 'change' || event === 'add') this.recheckAfterThrottle(path);
    });
    this.watcher.on('error', (error) => options.onError(error as Error));
    this.ready = new Promise((resolve) => this.watcher.once('ready', () => resolve()));
  }

  /**
   * chokidar drops (it does not defer) a second change to a file within 50 ms of the first, so
   * an editor's save followed at once by a formatter's rewrite would leave the first version
   * live. Once that window has passed, the file is looked at once more; if it differs from
   * what its batch saw, that is a change of its own.
   */
  private recheckAfterThrottle(path: string): void {
    clearTimeout(this.rechecks.get(path));
    const timer = setTimeout(() => {
      this.rechecks.delete(path);
      const seen = this.flushed.get(path);
      // Not flushed yet: the batch still pending covers it.
      if (seen === undefined || fingerprint(path) === seen) return;
      this.batcher.add(path);
      this.recheckAfterThrottle(path);
    }, CHOKIDAR_THROTTLE_MS + 10);
    this.rechecks.set(path, timer);
  }

  async close(): Promise<void> {
    for (const timer of this.rechecks.values()) clearTimeout(timer);
    this.batcher.dispose();
    await this.watcher.close();
  }
}
