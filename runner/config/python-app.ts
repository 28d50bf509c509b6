/**
 * Python apps: an APP written as gunicorn and uvicorn take it (`module:callable`, a factory call,
 * a module alone) runs on the
 * Python worker runtime, which ships with the runner as plain .py files and runs on the user's
 * interpreter. What can be checked before a worker starts is checked here, so that a wrong
 * interpreter or a missing config file is one clear line, not a worker that fails to boot.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors/usage-error';
import { isPythonApp } from '../protocol/app-forms';

export { isPythonApp };

/** The Python worker runtime, copied beside the CLI bundle by the build. */
export const pythonRuntimeDir = (): string => join(__dirname, 'python');

export type PythonInterpreter = { executable: string; version: string };

/** Runs the interpreter once: it exists, it is Python 3.8 or later, and where it really is. */
export function checkInterpreter(python: string): PythonInterpreter {
  const probe = spawnSync(
    python,
    ['-c', 'import sys; print(sys.executable); print("%d.%d.%d" % sys.version_info[:3])'],
    { encoding: 'utf8', timeout: 10_000 },
  );
  if (probe.error) {
    const missing = (probe.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new UsageError(
      missing
        ? `the Python interpreter '${python}' was not found (set it with --python PATH)`
        : `the Python interpreter '${python}' could not be run: ${probe.error.message}`,
    );
  }
  const [executable = python, version = '?'] = probe.stdout.trim().split('\n');
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (probe.status !== 0 || major < 3 || (major === 3 && minor < 8))
    throw new UsageError(
      `'${python}' is not a usable Python 3.8+ (${probe.status !== 0 ? probe.stderr.trim() || `exit ${probe.status}` : `version ${version}`})`,
    );
  return { executable, version };
}

/** The gunicorn config file: the one named, or gunicorn's own default if the project has one. */
export function gunicornConfigFile(named: string, cwd: string): string | undefined {
  if (named) {
    const file = resolve(cwd, named);
    if (!existsSync(file))
      throw new UsageError(`the gunicorn config '${named}' does not exist (looked for ${file})`);
    return file;
  }
  const file = join(cwd, 'gunicorn.conf.py');
  return existsSync(file) ? file : undefined;
}

/**
 * Removes the compiled bytecode of changed .py files before a new generation imports them.
 * Python trusts a .pyc whose recorded source mtime (whole seconds) and size match: a second
 * save within the same second, of the same size, would otherwise be served as the old code.
 */
export function dropStaleBytecode(files: readonly string[]): void {
  for (const file of files) {
    if (!file.endsWith('.py')) continue;
    const cache = join(dirname(file), '__pycache__');
    let names: string[];
    try {
      names = readdirSync(cache);
    } catch {
      continue; // never compiled
    }
    const stem = `${basename(file, '.py')}.`;
    for (const name of names)
      if (name.startsWith(stem) && name.endsWith('.pyc')) rmSync(join(cache, name), { force: true });
  }
}
