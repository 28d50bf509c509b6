/**
 * Real Python projects (test/fixtures/real-python-apps/README.md), for tests to run the arbiter
 * on: `pythonApp(t, NAME)` is a fresh copy in a temporary folder, removed when the test ends
 * (tests edit sources, and Python, SQLite and Flask write beside them). Their dependencies are
 * Debian's packages for /usr/bin/python3 (the README's requirements.txt pins those versions);
 * `python(dir, args)` runs that interpreter there, for a project's own set-up commands
 * (`manage.py migrate`, `flask init-db`).
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FIXTURES } from './arbiter-run';

export const PYTHON = '/usr/bin/python3';

export type PythonAppName = 'djsite' | 'fastapi-sql' | 'flaskr';

/** Why tests needing these Python packages cannot run here, or false. */
export function noPythonPackages(...packages: string[]): string | false {
  if (!existsSync(PYTHON)) return `${PYTHON} is not installed`;
  const missing = packages.filter((name) => !existsSync(join('/usr/lib/python3/dist-packages', name)));
  return missing.length ? `Debian's python3 packages missing: ${missing.join(', ')}` : false;
}

export function pythonApp(t: { after: (fn: () => void) => void }, name: PythonAppName): string {
  const dir = mkdtempSync(join(tmpdir(), `arbiter-${name}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(FIXTURES, 'real-python-apps', name), dir, { recursive: true });
  return dir;
}

const run = promisify(execFile);

/** Runs /usr/bin/python3 ARGS in `dir`; rejects with its output if it fails. */
export async function python(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await run(PYTHON, args, { cwd: dir, env: { ...process.env, ...env }, timeout: 60_000 });
  return stdout;
}
