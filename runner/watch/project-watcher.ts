/**
 * The arbiter's one watcher (never one per worker): chokidar over the project, with the ignore
 * rules applied while it walks — an ignored folder such as node_modules is never read — and
 * events batched into reload requests.
 */
import { watch, type FSWatcher } from 'chokidar';
import { basename, relative } from 'node:path';
import { ChangeBatcher, DEFAULT_BATCH, type BatchOptions } from './change-batcher';
import type { IgnoreRules } from './ignore-rules';

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
  readonly ready: Promise<void>;

  constructor(options: ProjectWatcherOptions) {
    const { root, rules, alwaysWatched } = options;
    const always = new Set(alwaysWatched);
    this.batcher = new ChangeBatcher(options.onBatch, options.batch ?? DEFAULT_BATCH);
    const outside = alwaysWatched.filter((file) => relative(root, file).startsWith('..'));
    this.watcher = watch([root, ...outside], {
      ignoreInitial: true,
      ignored: (path, stats) => !always.has(path) && rules.isIgnored(path, stats?.isDirectory()),
    });
    this.watcher.on('all', (event, path) => {
      if (event === 'addDir') return;
      if (basename(path) === '.gitignore') rules.invalidate(path);
      if (always.has(path) || rules.triggers(path)) this.batcher.add(path);
    });
    this.watcher.on('error', (error) => options.onError(error as Error));
    this.ready = new Promise((resolve) => this.watcher.once('ready', () => resolve()));
  }

  async close(): Promise<void> {
    this.batcher.dispose();
    await this.watcher.close();
  }
}
