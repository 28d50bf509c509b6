/**
 * A user's mistake — a bad flag, a config that does not load, a port in use: printed as one
 * line naming the value and what was expected, never with a stack trace, and exit code 2.
 * Everything else that escapes is a bug in the arbiter.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}
