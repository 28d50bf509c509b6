/**
 * Runs the extension's tests in a real VS Code: code-server (the VS Code server and workbench,
 * installed with the Node it needs by scripts/vscode-test-setup.sh into .cache/vscode) opened in
 * headless Chromium,
 * with this repository as the extension under development and out/test/vscode/index.js as the
 * test entry, which VS Code runs in its extension host. Prints the tests' lines and a final
 * `N passed, N failed`; exits non-zero on any failure; leaves no process behind — code-server
 * runs in its own process group, which is killed as a whole, and the workspace's servers are
 * looked for afterwards.
 */
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = resolve(__dirname, '../..');
const CODE_SERVER = join(ROOT, '.cache/vscode/code-server/node_modules/code-server/out/node/entry.js');
/** The Node code-server needs (24), installed beside it; the servers the tests start use the PATH's. */
const CODE_SERVER_NODE = join(ROOT, '.cache/vscode/node');
const TEST_ENTRY = join(ROOT, 'out/test/vscode/index.js');
const FIXTURE = join(ROOT, 'test/fixtures/vscode-workspace');
const CHROMIUM = '/usr/bin/chromium';
const START_DEADLINE_MS = 60_000;
const TESTS_DEADLINE_MS = 240_000;

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolvePort(port));
    });
    server.on('error', reject);
  });
}

/** Resolves when code-server says it listens; fails if it exits first or at the deadline. */
function whenUp(output: NodeJS.ReadableStream, exited: Promise<unknown>): Promise<void> {
  return new Promise((resolveUp, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`code-server not up within ${START_DEADLINE_MS} ms`)),
      START_DEADLINE_MS,
    );
    let seen = '';
    output.on('data', (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-4_000);
      if (!/HTTP server listening on/.test(seen)) return;
      clearTimeout(timer);
      resolveUp();
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error('code-server exited while starting'));
    });
  });
}

/** Processes whose command line mentions `dir` (servers of the test workspace left behind). */
function processesIn(dir: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.includes(dir) && !/^\s*\d+\s+Z/.test(line))
    .map((line) => line.trim());
}

async function main(): Promise<number> {
  if (!existsSync(CODE_SERVER) || !existsSync(CODE_SERVER_NODE) || !existsSync(CHROMIUM)) {
    console.error('code-server or chromium is missing: run scripts/vscode-test-setup.sh first');
    return 1;
  }
  if (!existsSync(TEST_ENTRY)) {
    console.error(`${TEST_ENTRY} is missing: run npm run build first`);
    return 1;
  }
  const scratch = mkdtempSync(join(tmpdir(), 'arbiter-vscode-'));
  const workspace = join(scratch, 'workspace');
  cpSync(FIXTURE, workspace, { recursive: true });
  const results = join(scratch, 'results.log');
  const userData = join(scratch, 'user-data');
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'update.mode': 'none',
    }),
  );
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const codeServer = spawn(
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
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        XDG_CONFIG_HOME: join(scratch, 'xdg'),
        XDG_DATA_HOME: join(scratch, 'xdg', 'data'),
        XDG_CACHE_HOME: join(scratch, 'xdg', 'cache'),
        ARBITER_VSCODE_RESULTS: results,
      },
    },
  );
  let serverLog = '';
  for (const stream of [codeServer.stdout, codeServer.stderr])
    stream.on('data', (chunk: Buffer) => (serverLog = (serverLog + chunk.toString()).slice(-20_000)));
  const exited = new Promise((resolveExit) => codeServer.once('exit', resolveExit));
  const up = whenUp(codeServer.stdout, exited);
  up.catch(() => undefined); // awaited below, once the browser is launched
  const browser = await chromium.launch({
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
  let code = 1;
  try {
    await up;
    const authority = new URL(base).host;
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://${authority}${ROOT}`],
      ['extensionTestsPath', `vscode-remote://${authority}${TEST_ENTRY}`],
    ];
    const page = await browser.newPage();
    page.on('console', (message) => {
      const text = message.text();
      if (text.includes('[arbiter-test]')) console.log(text.replace(/^.*\[arbiter-test\] /, ''));
    });
    const done = new Promise<number>(
      (resolveDone) => void page.exposeFunction('codeAutomationExit', resolveDone),
    );
    await page.goto(
      `${base}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`,
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the tests did not finish within ${TESTS_DEADLINE_MS} ms`)),
        TESTS_DEADLINE_MS,
      );
    });
    code = await Promise.race([done, timeout]).finally(() => clearTimeout(timer));
  } catch (error) {
    console.error(`${(error as Error).message}\n--- code-server output ---\n${serverLog}`);
    code = 1;
  } finally {
    await browser.close();
    try {
      process.kill(-codeServer.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    await exited;
  }
  const lines = existsSync(results) ? readFileSync(results, 'utf8') : '';
  if (!/\d+ passed, \d+ failed/.test(lines)) console.log('0 passed, 1 failed (the tests did not report)');
  // The extension's servers stop with the extension host (their stdin closes): give them their
  // graceful moment, then nothing of the workspace may run.
  const deadline = Date.now() + 10_000;
  let left = processesIn(workspace);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    left = processesIn(workspace);
  }
  if (left.length > 0) {
    console.log(`not ok - processes of the test workspace left behind:\n${left.join('\n')}`);
    code = 1;
  }
  rmSync(scratch, { recursive: true, force: true });
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
