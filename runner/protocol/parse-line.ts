import type { Schema } from './schema';

/** The result of validating one line: never throws, so a bad line can be reported and skipped. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses one NDJSON line and validates it against `schema`. */
export function parseLine<T>(schema: Schema<T>, line: string): ParseResult<T> {
  try {
    return { ok: true, value: schema.parse(JSON.parse(line)) };
  } catch (error) {
    const message = (error as Error).message;
    return { ok: false, error: error instanceof SyntaxError ? `not JSON: ${message}` : message };
  }
}
