/**
 * `--env-file`: variables for the app from `.env` files, read the way Node reads its own
 * `--env-file` (util.parseEnv: `KEY=value`, quotes, `#` comments, `export ` prefixes), later
 * files overriding earlier ones, and the environment the arbiter was started with winning over
 * them all. The workers get them in their boot message, so a standby started before a change
 * boots with the new values. What changed between two reads is known by name, for the reload
 * row: values are never reported (they are often secrets).
 */
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { readRegularFile } from '../fs/read-regular-file';
import { UsageError } from '../errors/usage-error';

/** Larger than any hand-written .env: past it, the file is something else. */
const MAX_ENV_FILE_BYTES = 1024 * 1024;

export type EnvFiles = {
  /** The files, absolute, in the order given. */
  files: string[];
  /** Their variables, merged (later files win). */
  vars: Record<string, string>;
};

/** Reads every file; one that is missing or not a regular file is one line (a UsageError). */
export function readEnvFiles(paths: readonly string[], cwd: string): EnvFiles {
  const files = paths.map((path) => resolve(cwd, path));
  const vars: Record<string, string> = {};
  for (const file of files) {
    const read = readRegularFile(file, MAX_ENV_FILE_BYTES);
    if (!read.ok)
      throw new UsageError(`env file '${file}' ${read.missing ? 'does not exist' : read.problem}`);
    Object.assign(vars, parseEnv(read.data.toString('utf8')));
  }
  return { files, vars };
}

/** The names whose value differs between two reads (added, removed or changed), sorted. */
export function changedNames(before: Record<string, string>, after: Record<string, string>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => before[name] !== after[name]).sort();
}
