/**
 * What an APP and a config file are called, for the runner and the extension alike (the
 * extension decides which interpreter starts a folder's app, and which file names its app).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The config files the arbiter finds in a folder, in the order it looks for them. */
export const CONFIG_FILE_NAMES = ['js', 'mjs', 'cjs', 'ts', 'mts', 'cts'].map(
  (ext) => `arbiter.config.${ext}`,
);

/**
 * `package.module:callable` and `package.module:factory(args)`, as gunicorn writes them (and
 * uvicorn, whose `--factory` calls the callable).
 */
export const PYTHON_CALLABLE = /^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*(\(.*\))?$/s;

/** A module alone (`mysite.wsgi`), which gunicorn reads as `mysite.wsgi:application`. */
export const PYTHON_MODULE = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/;

/**
 * Whether APP names a Python app rather than a Node module (an existing file wins): one of
 * gunicorn's forms, `module:callable`, `module:factory()`, or a module alone that the project
 * has as a `.py` file or package.
 */
export function isPythonApp(app: string, cwd: string): boolean {
  const target = resolve(cwd, app);
  // A file is a Node app; so is a folder, unless it is a Python package and no Node one.
  const pythonPackage =
    existsSync(join(target, '__init__.py')) &&
    !existsSync(join(target, 'index.js')) &&
    !existsSync(join(target, 'package.json'));
  if (existsSync(target) && !pythonPackage) return false;
  if (PYTHON_CALLABLE.test(app)) return true;
  if (!PYTHON_MODULE.test(app)) return false;
  const path = join(cwd, ...app.split('.'));
  return existsSync(`${path}.py`) || existsSync(join(path, '__init__.py'));
}
