/**
 * A real VS Code for the harnesses: code-server (the VS Code server and workbench, installed
 * with the Node it needs by scripts/vscode-test-setup.sh into .cache/vscode) in its own process
 * group, on a fresh user-data and extensions folder, and Debian's Chromium to open it headless.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { waitUntil } from '../support/arbiter-run';
import { freePort } from '../support/free-port';

export const ROOT = resolve(__dirname, '../..');
const CODE_SERVER = join(ROOT, '.cache/vscode/code-server/node_modules/code-server/out/node/entry.js');
/** The Node code-server needs (24), installed beside it; the servers the tests start use the PATH's. */
const CODE_SERVER_NODE = join(ROOT, '.cache/vscode/node');
const CHROMIUM = '/usr/bin/chromium';
const START_DEADLINE_MS = 60_000;

export function missingTools(): string | undefined {
  for (const path of [CODE_SERVER, CODE_SERVER_NODE, CHROMIUM])
    if (!existsSync(path)) return `${path} is missing: run scripts/vscode-test-setup.sh first`;
  return undefined;
}

/** Where code-server keeps everything of one run, so that nothing lands in the home folder. */
function isolatedEnv(scratch: string, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...process.env,
    XDG_CONFIG_HOME: join(scratch, 'xdg'),
    XDG_DATA_HOME: join(scratch, 'xdg', 'data'),
    XDG_CACHE_HOME: join(scratch, 'xdg', 'cache'),
    ...extra,
  };
}

/** Installs a .vsix into the run's extensions folder, as `code --install-extension` does. */
export function installVsix(scratch: string, vsix: string): string {
  return execFileSync(
    CODE_SERVER_NODE,
    [CODE_SERVER, '--extensions-dir', join(scratch, 'extensions'), '--install-extension', vsix],
    { encoding: 'utf8', env: isolatedEnv(scratch, {}), stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

export type CodeServer = {
  base: string;
  /** The last 20 kB of its output, for a failure's report. */
  log: () => string;
  /** Kills its whole process group (extension host included) and waits for it. */
  stop: () => Promise<void>;
};

/** Starts code-server on `scratch`'s folders; resolves once it says it listens. */
export async function startCodeServer(scratch: string, env: NodeJS.ProcessEnv = {}): Promise<CodeServer> {
  const userData = join(scratch, 'user-data');
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'update.mode': 'none',
      'chat.disableAIFeatures': true,
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
    }),
  );
  const port = await freePort();
  const child = spawn(
    CODE_SERVER_NODE,
    [
      CODE_SERVER,
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--reconnection-grace-time',
      '10',
      '--vscode-option',
      'enable-smoke-test-driver',
      '--user-data-dir',
      userData,
      '--extensions-dir',
      join(scratch, 'extensions'),
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: isolatedEnv(scratch, env) },
  );
  let log = '';
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const stop = async () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    await exited;
  };
  const up = new Promise<void>((resolveUp, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`code-server not up within ${START_DEADLINE_MS} ms`)),
      START_DEADLINE_MS,
    );
    for (const stream of [child.stdout, child.stderr])
      stream.on('data', (chunk: Buffer) => {
        log = (log + chunk.toString()).slice(-20_000);
        if (!/HTTP server listening on/.test(log)) return;
        clearTimeout(timer);
        resolveUp();
      });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error('code-server exited while starting'));
    });
  });
  try {
    await up;
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n--- code-server output ---\n${log}`);
  }
  return { base: `http://127.0.0.1:${port}`, log: () => log, stop };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Processes whose command line mentions `dir` (servers of a test workspace left behind), zombies aside. */
export function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      // The state follows the command name's closing parenthesis in /proc/PID/stat.
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)?.[0];
      if (args.includes(dir) && state !== 'Z') found.push(`${pid} ${args}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * Waits up to `ms` for the workspace's processes to go (a graceful stop in progress); returns
 * what is left. They are not our children, so no exit event reaches us: /proc is read again
 * at a fine grain (waitUntil) until they are gone or the deadline passes.
 */
export async function leftBehind(dir: string, ms = 10_000): Promise<string[]> {
  let left = processesIn(dir);
  await waitUntil(() => (left = processesIn(dir)).length === 0, ms, 'gone').catch(() => undefined);
  return left;
}
