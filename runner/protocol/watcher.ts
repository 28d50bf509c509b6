/**
 * Between the arbiter and its watcher thread: what the thread is asked to watch (its
 * `workerData`) and what it reports back (`postMessage`). Both sides are our code, but they
 * are separately bundled and cross a structured clone, so each side validates what it gets.
 */
import { parseValue, type ParseResult } from './parse-line';
import * as s from './schema';

/** What to watch, given to the thread when it starts. */
const watcherStartSchema = s.object({
  root: s.string(),
  /** `--ignore` and `--watch` globs. */
  ignore: s.array(s.string()),
  watch: s.array(s.string()),
  /** Files that always count even where the rules would skip them (the config file). */
  alwaysWatched: s.array(s.string()),
  /** Files the arbiter writes itself (events files, its output): never a change. */
  ownFiles: s.array(s.string()),
  /** Further folders watched as the project is, each with its own rules (linked workspace packages). */
  roots: s.optional(s.array(s.string())),
});
export type WatcherStart = s.Infer<typeof watcherStartSchema>;

/** Files changed; `openedAt` (epoch ms) is when the first of them changed. */
const batchMessage = s.object({ type: s.literal('batch'), files: s.array(s.string()), openedAt: s.number() });
const readyMessage = s.object({
  type: s.literal('ready'),
  files: s.integer(0),
  folders: s.integer(0),
  /** Folders the kernel would not watch (the inotify limit), polled instead. */
  polled: s.integer(0),
  durationMs: s.integer(0),
});
/** Not fatal, printed as a warning: something the watcher could not do (a .gitignore it would not read). */
const errorMessage = s.object({ type: s.literal('error'), message: s.string() });

/** A file whose changes are left out from now on, and why (a SQLite database: data, not source). */
const ignoredMessage = s.object({ type: s.literal('ignored'), file: s.string(), reason: s.string() });

const watcherMessageSchema = s.tagged([batchMessage, readyMessage, errorMessage, ignoredMessage]);
export type WatcherMessage = s.Infer<typeof watcherMessageSchema>;

export const checkWatcherStart = (value: unknown): ParseResult<WatcherStart> =>
  parseValue(watcherStartSchema, value);
export const checkWatcherMessage = (value: unknown): ParseResult<WatcherMessage> =>
  parseValue(watcherMessageSchema, value);
