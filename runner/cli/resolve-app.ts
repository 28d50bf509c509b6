/** Turns the APP argument into the absolute path of a readable module, or a clear UsageError. */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { UsageError } from '../errors/usage-error';

export function resolveApp(app: string, cwd: string): string {
  const path = resolve(cwd, app);
  let file: string;
  try {
    // Node's own resolution: `server` finds server.js, a folder finds its package main or index.js.
    file = createRequire(resolve(cwd, 'noop.js')).resolve(path);
  } catch {
    if (existsSync(path) && statSync(path).isDirectory()) {
      throw new UsageError(`app '${app}' is a directory with no index.js and no package.json main`);
    }
    throw new UsageError(`app '${app}' does not exist (looked for ${path})`);
  }
  try {
    accessSync(file, constants.R_OK);
  } catch {
    throw new UsageError(`app '${app}' cannot be read (permission denied: ${file})`);
  }
  return file;
}
