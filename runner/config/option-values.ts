/**
 * Value checkers shared by the command line and the config file, so that `-w 0` and
 * `workers: 0` fail with the same words. Each takes what the user wrote and either returns
 * the typed value or throws an Error saying what was expected.
 */
import { UsageError } from '../errors/usage-error';

export type Checker<T> = {
  /** What a valid value looks like, for error messages and --help. */
  expected: string;
  /** Converts a command-line string. */
  fromText(text: string): T;
  /** Checks a config-file value. */
  fromValue(value: unknown): T;
};

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}' (a string)`;
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return `${value} (${typeof value})`;
  return `a value of type ${typeof value}`;
}

function numberChecker(expected: string, valid: (n: number) => boolean): Checker<number> {
  const check = (n: number, shown: string): number => {
    if (!Number.isFinite(n) || !valid(n)) throw new UsageError(`got ${shown}, expected ${expected}`);
    return n;
  };
  return {
    expected,
    fromText: (text) => check(text.trim() === '' ? NaN : Number(text), `'${text}'`),
    fromValue: (value) => {
      if (typeof value !== 'number') throw new UsageError(`got ${describe(value)}, expected ${expected}`);
      return check(value, String(value));
    },
  };
}

export const positiveInteger = numberChecker(
  'a whole number of 1 or more',
  (n) => Number.isInteger(n) && n >= 1,
);
export const nonNegativeInteger = numberChecker(
  'a whole number of 0 or more',
  (n) => Number.isInteger(n) && n >= 0,
);
/**
 * The longest time a timer can count: Node's timers take 32-bit milliseconds and treat
 * anything longer as 1 ms — a healthy worker would be aborted at once. About 24.8 days.
 */
export const MAX_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export const seconds = numberChecker(
  `a number of seconds, 0 or more, up to ${MAX_SECONDS} (24 days)`,
  (n) => n >= 0 && n <= MAX_SECONDS,
);
export const positiveSeconds = numberChecker(
  `a number of seconds greater than 0, up to ${MAX_SECONDS} (24 days)`,
  (n) => n > 0 && n <= MAX_SECONDS,
);

export const text: Checker<string> = {
  expected: 'a non-empty string',
  fromText: (value) => {
    if (!value) throw new UsageError('got an empty string, expected a non-empty string');
    return value;
  },
  fromValue: (value) => {
    if (typeof value !== 'string' || !value)
      throw new UsageError(`got ${describe(value)}, expected a non-empty string`);
    return value;
  },
};

export const boolean: Checker<boolean> = {
  expected: 'true or false',
  fromText: (value) => {
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    throw new UsageError(`got '${value}', expected true or false`);
  },
  fromValue: (value) => {
    if (typeof value !== 'boolean') throw new UsageError(`got ${describe(value)}, expected true or false`);
    return value;
  },
};

/** One of a few words. */
export function choice<const T extends readonly string[]>(choices: T): Checker<T[number]> {
  const expected = `one of ${choices.join(', ')}`;
  const check = (value: unknown): T[number] => {
    if (typeof value === 'string' && choices.includes(value)) return value;
    throw new UsageError(`got ${describe(value)}, expected ${expected}`);
  };
  return { expected, fromText: check, fromValue: check };
}

/** A list: repeatable on the command line, a string or an array of strings in the config. */
export const textList: Checker<string[]> = {
  expected: 'a string or an array of strings',
  fromText: (value) => [text.fromText(value)],
  fromValue: (value) => {
    const items = typeof value === 'string' ? [value] : value;
    if (
      !Array.isArray(items) ||
      items.length === 0 ||
      !items.every((item) => typeof item === 'string' && item)
    ) {
      throw new UsageError(`got ${describe(value)}, expected a string or a non-empty array of strings`);
    }
    return items as string[];
  },
};

/** Levenshtein distance, for "did you mean" suggestions on unknown names. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/** The closest known name, if it is close enough to be a typo. */
export function suggest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}
