/**
 * What a stuck worker was doing, in words: one wording for the arbiter's kill line and the
 * editor's tree ("flusher.py:12 `while not self.cancelled:` (thread flusher)").
 */
import type { StackFrame, ThreadStack } from './events';

/** Where a frame is the libraries' or the language's own, not the app's: never the one to name. */
const LIBRARY = [
  /^node:/,
  /\/node_modules\//,
  /\/(?:site|dist)-packages\//,
  /\/lib\/python\d+(?:\.\d+)?\//,
  /^<frozen /,
  /^<string>$/,
];

/** Whether `file` is the app's own (not a library's, not the language's). */
export function isAppFile(file: string): boolean {
  return file !== '' && !LIBRARY.some((pattern) => pattern.test(file));
}

/** The frame a person wants to see, with its thread. */
export type StuckAt = { thread: ThreadStack; frame: StackFrame };

/**
 * The innermost app frame of the first thread that has one, the main thread first: where the
 * app was when it was stopped. When no thread has an app frame, the innermost frame of the first
 * thread that has any (a library's busy loop is still a place); undefined when none has frames.
 */
export function innermostAppFrame(threads: readonly ThreadStack[]): StuckAt | undefined {
  const ordered = [...threads.filter((thread) => thread.main), ...threads.filter((thread) => !thread.main)];
  for (const thread of ordered) {
    const frame = thread.frames.find((candidate) => isAppFile(candidate.file));
    if (frame) return { thread, frame };
  }
  const thread = ordered.find((candidate) => candidate.frames.length > 0);
  return thread ? { thread, frame: thread.frames[0]! } : undefined;
}

/** The file's last path segment (a file URL's too). */
export function baseName(file: string): string {
  const path = file.replace(/^file:\/\//, '');
  return path.slice(path.lastIndexOf('/') + 1) || path;
}

/** "flusher.py:12 `while not self.cancelled:` (thread flusher)". */
export function stuckAtText({ thread, frame }: StuckAt): string {
  const source = frame.source?.trim();
  const code = source ? ` \`${source.length > 80 ? `${source.slice(0, 79)}…` : source}\`` : '';
  const where = frame.function && !/^<|^$/.test(frame.function) ? ` in ${frame.function}()` : '';
  return `${baseName(frame.file)}:${frame.line}${code}${where} (thread ${thread.name})`;
}

/** One frame as a stack line: "flusher.py:12 in run — while not self.cancelled:". */
export function frameText(frame: StackFrame): string {
  const fn = frame.function ? ` in ${frame.function}` : '';
  const source = frame.source?.trim();
  return `${baseName(frame.file)}:${frame.line}${fn}${source ? ` — ${source}` : ''}`;
}

/**
 * What to add to a kill's reason: "while in flusher.py:12 `…` (thread flusher)", or why it is not
 * known, or nothing when nothing was read.
 */
export function whileInText(threads: readonly ThreadStack[], unavailable?: string): string {
  const at = innermostAppFrame(threads);
  if (at) return `while in ${stuckAtText(at)}`;
  return unavailable ? `(its stack: ${unavailable})` : '';
}
