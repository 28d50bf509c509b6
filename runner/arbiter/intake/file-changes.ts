/**
 * Saves become reloads: the one watcher over the project (and the workspace packages it
 * imports), its batches turned into reload requests, a change to the config file asking for it
 * to be re-read, and files that change on every cycle (a reload loop) left out with one line.
 */
import { statSync } from 'node:fs';
import { relative } from 'node:path';
import type { Settings } from '../../config/settings';
import type { Reporter } from '../reporter';
import { arbiterOutputFiles } from '../../watch/arbiter-output-files';
import { WatcherHandle } from '../../watch/watcher-handle';
import { linkedWorkspacePackages } from '../../watch/workspace-packages';
import type { ReloadRequest } from './reload-requests';
import { loopWarning, LOOP_REASON, ReloadLoops } from './reload-loops';

export type FileChangeOptions = {
  root: string;
  settings: Pick<Settings, 'ignore' | 'watch' | 'events'>;
  /** The config file in use: a change to it re-reads it. */
  configFile: string | undefined;
  /** The --env-file files: watched even where .gitignore leaves them out, as .env files always are. */
  envFiles: readonly string[];
  report: Reporter;
  /** Whether the arbiter is stopping: nothing it sees then is reported or reloaded. */
  stopping: () => boolean;
  reload: (request: ReloadRequest) => void;
};

/** A file's last write (mtime, epoch ms), if it can be read. */
function writtenAt(file: string): number | undefined {
  try {
    return statSync(file, { throwIfNoEntry: false })?.mtimeMs;
  } catch {
    return undefined;
  }
}

export function watchFileChanges(options: FileChangeOptions): WatcherHandle {
  const { root, configFile, report } = options;
  const { log, events } = report;
  const shown = (file: string) => relative(root, file) || file;
  const loops = new ReloadLoops();
  events.subscribe((event) => loops.observe(event));
  const packages = linkedWorkspacePackages(root);
  if (packages.length > 0)
    log.info(
      `watching the workspace packages it imports too: ${packages.map((p) => relative(root, p)).join(', ')}`,
    );
  return new WatcherHandle({
    root,
    roots: packages,
    ignore: options.settings.ignore,
    watch: options.settings.watch,
    alwaysWatched: [...(configFile ? [configFile] : []), ...options.envFiles],
    ownFiles: arbiterOutputFiles(options.settings.events, root),
    onBatch: (batch, openedAt) => {
      if (options.stopping()) return;
      const closedAt = Date.now();
      const { files, looping } = loops.batch(batch, openedAt, writtenAt);
      for (const file of looping) report.ignored(file, LOOP_REASON, 'warn', loopWarning(shown(file)));
      if (files.length === 0) return;
      const more = files.length > 3 ? ` and ${files.length - 3} more` : '';
      log.info(`changed: ${files.slice(0, 3).map(shown).join(', ')}${more}`);
      options.reload({
        trigger: 'file change',
        files,
        rereadConfig: configFile !== undefined && files.includes(configFile),
        batch: { openedAt, closedAt },
      });
    },
    onReady: ({ files, folders, polled, durationMs }) => {
      if (options.stopping()) return;
      report.watching({ root, files, folders, polled, durationMs });
    },
    onWarning: (message) => log.warn(message),
    onIgnored: (file, reason) => {
      report.ignored(file, reason, 'info', `not reloading on ${shown(file)}: ${reason}`);
    },
  });
}
