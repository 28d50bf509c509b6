/**
 * Finds where an error points in the user's code, so a failed boot or reload can be shown
 * as file:line:column (and, in the editor, as a diagnostic). Pure: works on the error's stack
 * text, which is what crosses the process boundary.
 */
import { fileURLToPath } from 'node:url';

export type SourceLocation = { file: string; line: number; column?: number };

/** The runner's folders: a frame in one of them (run from source, as the tests do) is the arbiter's. */
export const RUNNER_FOLDERS = [
  'arbiter',
  'cli',
  'config',
  'drill',
  'errors',
  'fs',
  'log',
  'proc',
  'protocol',
  'python',
  'typescript',
  'util',
  'watch',
  'worker',
] as const;

/** Frames that belong to Node or to the arbiter's own runtime (bundled in out/runner, or its sources), never to the app. */
const INTERNAL = new RegExp(
  `(^node:|^internal/|[\\\\/]out[\\\\/]runner[\\\\/]|[\\\\/]runner[\\\\/](${RUNNER_FOLDERS.join('|')})[\\\\/])`,
);

/**
 * `    at fn (/path/file.js:3:11)` or `    at /path/file.js:3:11`. The path must look like one,
 * so that a folder named "proj (copy)" is not mistaken for the end of a function name.
 */
const FRAME = /^\s+at (?:.*? \()?((?:\/|file:\/\/|node:|[A-Za-z]:\\).+?):(\d+):(\d+)\)?$/;

function toPath(file: string): string {
  return file.startsWith('file://') ? fileURLToPath(file) : file;
}

/**
 * The location an error is about. A SyntaxError's stack starts with `FILE:LINE` on a line of
 * its own (V8 prints the offending source under it); other errors name it in their first
 * frame outside Node and the runtime.
 */
export function locateError(stack: string | undefined): SourceLocation | undefined {
  if (!stack) return undefined;
  const lines = stack.split('\n');
  // Only a path counts as a header: "connect ECONNREFUSED 127.0.0.1:6379" is a message.
  const header = /^((?:\/|file:\/\/|[A-Za-z]:\\).+?):(\d+)$/.exec(lines[0] ?? '');
  if (header && !INTERNAL.test(header[1]!)) return { file: toPath(header[1]!), line: Number(header[2]) };
  for (const line of lines) {
    const frame = FRAME.exec(line);
    if (!frame || INTERNAL.test(frame[1]!)) continue;
    return { file: toPath(frame[1]!), line: Number(frame[2]), column: Number(frame[3]) };
  }
  return undefined;
}

/** The stack without frames from Node's internals and the arbiter's runtime: what a user reads. */
export function userStack(stack: string | undefined): string | undefined {
  if (!stack) return undefined;
  return stack
    .split('\n')
    .filter((line) => {
      const frame = FRAME.exec(line);
      return !frame || !INTERNAL.test(frame[1]!);
    })
    .join('\n');
}
