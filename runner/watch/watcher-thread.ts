/**
 * The watcher thread's entry (bundled as out/runner/watcher.js). The project watcher runs
 * here rather than on the arbiter's own loop: walking a tree of 20,000 files takes a second of
 * CPU that would otherwise delay the arbiter's answer to a signal or a worker's ready message,
 * and the garbage of that walk stays in this thread's small heap.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { checkWatcherStart, type WatcherMessage } from '../protocol/watcher';
import { IgnoreRules } from './ignore-rules';
import { ProjectWatcher } from './project-watcher';
import { releaseMemory } from './release-memory';

const post = (message: WatcherMessage) => parentPort!.postMessage(message);

const start = checkWatcherStart(workerData);
if (!start.ok) throw new Error(`watcher thread: bad start options: ${start.error}`);
const { root, ignore, watch, alwaysWatched, ownFiles, roots = [] } = start.value;

const startedAt = performance.now();
/** One watcher per root: the project, and each linked workspace package with rules of its own. */
const watchers = [root, ...roots].map(
  (folder, index) =>
    new ProjectWatcher({
      root: folder,
      rules: new IgnoreRules(folder, {
        ignore,
        watch,
        ownFiles,
        onWarning: (message) => post({ type: 'error', message }),
      }),
      alwaysWatched: index === 0 ? alwaysWatched : [],
      onBatch: (files, openedAt) => post({ type: 'batch', files, openedAt }),
      onError: (error) => post({ type: 'error', message: error.message }),
      onIgnored: (file, reason) => post({ type: 'ignored', file, reason }),
      onWarning: (message) => post({ type: 'error', message }),
    }),
);
void Promise.all(watchers.map((watcher) => watcher.ready)).then(() => {
  const durationMs = Math.round(performance.now() - startedAt);
  const counts = { files: 0, folders: 0, polled: 0 };
  for (const watcher of watchers) {
    const each = watcher.counts();
    counts.files += each.files;
    counts.folders += each.folders;
    counts.polled += each.polled;
  }
  post({ type: 'ready', ...counts, durationMs });
  releaseMemory();
});
