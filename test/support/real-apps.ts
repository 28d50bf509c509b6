/**
 * Real projects, made by the frameworks' own generators (test/fixtures/real-apps/README.md),
 * for tests to run the arbiter on. Each is installed once with `npm ci` from its committed
 * lockfile into `.cache/real-apps/NAME` (outside git's view; installed again only when the
 * lockfile changes), and that folder is where the tests run it: `realApp(NAME)` first puts every
 * source file back as committed, so a test may edit sources freely, and the next one starts
 * from the starter again. The tests of one app live in one test file, which node:test runs one
 * after another; different apps run side by side in folders of their own.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, ROOT } from './arbiter-run';

export type RealAppName = 'nest' | 'fastify-ts' | 'express' | 'koa' | 'hono' | 'next';

/** The installed copy of `name`, its sources as committed. */
export function realApp(name: RealAppName): string {
  const source = join(FIXTURES, 'real-apps', name);
  const dir = join(ROOT, '.cache', 'real-apps', name);
  const lock = readFileSync(join(source, 'package-lock.json'));
  const hash = createHash('sha256').update(lock).digest('hex');
  const stamp = join(dir, 'node_modules', '.installed-from');
  mkdirSync(dir, { recursive: true });
  cpSync(source, dir, { recursive: true, force: true });
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== hash) {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    writeFileSync(stamp, hash);
  }
  return dir;
}
