/**
 * Folders where the arbiter keeps files it will later load or delete (TypeScript outputs). What
 * lands there runs as the arbiter's user, so only that user may be able to write there: a folder
 * another local user created first, or a symlink they planted, would let them swap the code a
 * worker loads next, or point the start-up sweep at someone else's files.
 *
 * The folder is created 0700 if it is missing. If it exists it must be a real directory (never
 * followed through a symlink) owned by this user; one of ours that others may enter is made
 * private again. Anything else is refused with one line.
 */
import { chmodSync, lstatSync, mkdirSync, type Stats } from 'node:fs';
import { UsageError } from '../errors/usage-error';

/** Group and others get nothing: not even reading (the outputs are the app's code). */
const SHARED = 0o077;

/**
 * Makes sure `path` is a folder only this user can write; its parent must exist. `purpose` and
 * `remedy` complete the one line a refusal prints.
 */
export function ensurePrivateDir(path: string, purpose: string, remedy = 'remove it'): string {
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw refusal(path, purpose, remedy, error);
  }
  let stat: Stats;
  try {
    stat = lstatSync(path);
  } catch (error) {
    throw refusal(path, purpose, remedy, error);
  }
  const uid = process.getuid?.();
  if (stat.isSymbolicLink()) throw refusal(path, purpose, remedy, 'it is a symbolic link');
  if (!stat.isDirectory()) throw refusal(path, purpose, remedy, 'it is not a folder');
  if (uid !== undefined && stat.uid !== uid)
    throw refusal(path, purpose, remedy, `it belongs to uid ${stat.uid}, not to you (uid ${uid})`);
  if (stat.mode & SHARED) chmodSync(path, 0o700);
  return path;
}

function refusal(path: string, purpose: string, remedy: string, cause: unknown): UsageError {
  const why =
    typeof cause === 'string'
      ? cause
      : `${(cause as NodeJS.ErrnoException).code ?? 'error'}: ${(cause as Error).message}`;
  return new UsageError(`cannot keep ${purpose} in ${path}: ${why}; ${remedy}`);
}

/** Whether `stat` is a plain file of this user's: the only kind of entry a sweep may delete. */
export function isOwnFile(stat: Stats): boolean {
  const uid = process.getuid?.();
  return stat.isFile() && (uid === undefined || stat.uid === uid);
}
