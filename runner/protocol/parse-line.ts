import type { Schema } from './schema';

/** The result of validating one line: never throws, so a bad line can be reported and skipped. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Validates a value (a structured clone, a parsed line) against `schema`. */
export function parseValue<T>(schema: Schema<T>, value: unknown): ParseResult<T> {
  try {
    return { ok: true, value: schema.parse(value) };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/** Parses one NDJSON line and validates it against `schema`. */
export function parseLine<T>(schema: Schema<T>, line: string): ParseResult<T> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
  return parseValue(schema, value);
}
