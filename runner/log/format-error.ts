/**
 * An error as a person reads it in the log: its stack (user code only, and it starts with the
 * message), or the message and where it points.
 */
import type { ErrorInfo } from '../protocol/events';

export function formatError(error: ErrorInfo): string {
  if (error.stack) return error.stack;
  const where = error.file
    ? ` (${error.file}${error.line ? `:${error.line}` : ''}${error.line && error.column ? `:${error.column}` : ''})`
    : '';
  return `${error.message}${where}`;
}
