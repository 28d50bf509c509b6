/**
 * The peers the repository does not depend on itself (@nestjs/cli, ts-node-dev, bun, and the
 * TypeScript they compile with), pinned in bench/real-apps/peers/package-lock.json and installed
 * by `npm ci` into .cache/bench-peers (gitignored), again only when that lockfile changes. bun's
 * binary ships inside its npm package (an optional dependency per platform).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from '../arbiter-server';

const SOURCE = resolve(ROOT, 'bench/real-apps/peers');
const DIR = resolve(ROOT, '.cache/bench-peers');
export const PEERS_BIN = join(DIR, 'node_modules/.bin');

export function installPeers(log: (message: string) => void): void {
  const lock = readFileSync(join(SOURCE, 'package-lock.json'));
  const hash = createHash('sha256').update(lock).digest('hex');
  const stamp = join(DIR, 'node_modules', '.installed-from');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return;
  log('installing the peers (bench/real-apps/peers) into .cache/bench-peers');
  mkdirSync(DIR, { recursive: true });
  for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(SOURCE, file), join(DIR, file));
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: DIR,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  writeFileSync(stamp, hash);
}
