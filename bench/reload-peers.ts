/**
 * Reload on save, side by side: the arbiter (watching its cwd) against nodemon, `node --watch`
 * and gunicorn's own reloader, each on the same hello-world app (a WSGI twin for gunicorn) in a
 * fresh temp project, with the same edits (the file rewritten with its version counter bumped).
 * Measures edit → live latency, failed requests under continuous load across reloads, and
 * whether a slow request in flight at the moment of an edit completes. Every process started is
 * in its own process group, killed as a whole when the runner is done, on success and failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { ArbiterServer, ROOT } from './arbiter-server';
import { pause, within } from './deadline';
import { median, percentile } from './stats';
import { get, REQUEST_TIMEOUT_MS } from './fresh-get';
import { whenServed } from './when-served';

/** Edits timed for edit → live latency, per runner. */
export const LATENCY_EDITS = 20;
/** Reloads under continuous load, per peer runner (the issue asks 100 for the arbiter). */
export const LOAD_RELOADS = 30;
/** Reloads under continuous load for the arbiter. */
export const ARBITER_LOAD_RELOADS = 100;
/** Edits with a /slow request in flight, per runner. */
export const SLOW_TRIES = 5;
/** Concurrent clients of the continuous load, each a fresh connection per request. */
const LOAD_CLIENTS = 4;
/** A fresh request this often while waiting for a new version. */
const POLL_INTERVAL_MS = 3;
const POLL_MAX_IN_FLIGHT = 3;
/** Quiet after a version is live, before the next edit. */
const QUIET_MS = 300;
/** After the last reload under load: requests still failing late are counted too. */
const LOAD_TAIL_MS = 1_000;
const LIVE_DEADLINE_MS = 20_000;
const BOOT_DEADLINE_MS = 20_000;
/** How long /slow takes, and how far into it the edit is made. */
const SLOW_MS = 1_000;
const SLOW_EDIT_AFTER_MS = 200;
const SLOW_PAD = 64 * 1024;
const WORKERS = 2;
const PYTHON = '/usr/bin/python3';
const NODEMON = resolve(ROOT, 'node_modules/.bin/nodemon');

type RunnerName = 'arbiter' | 'nodemon' | 'node --watch' | 'gunicorn' | 'arbiter (Python)';

/** The runners that serve the WSGI twin of the app. */
const PYTHON_RUNNERS = new Set<RunnerName>(['gunicorn', 'arbiter (Python)']);

export type PeerFigures = {
  name: RunnerName;
  command: string;
  /** Why the runner was not measured, or where it failed. */
  skipped?: string;
  error?: string;
  latencies: number[];
  loadReloads: number;
  loadRequests: number;
  loadFailed: number;
  slowOk: number;
  slowTries: number;
  /** Arbiter only: its own `durationMs` of each cycle. */
  reportedMs?: number[];
  /** Arbiter only: edits made, and the cycles its watcher started for them. */
  cycles?: { edits: number; triggered: number; failed: number };
};

const nodeApp = (version: number): string => `// bench/reload-peers.ts: hello world, version ${version}
const http = require('node:http');
const VERSION = ${version};
const PAD = 'x'.repeat(${SLOW_PAD});
http
  .createServer((request, response) => {
    if (request.url === '/slow') {
      setTimeout(() => response.end('slow v' + VERSION + ' ' + PAD + ' end'), ${SLOW_MS});
      return;
    }
    response.end('hello v' + VERSION);
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

const pythonApp = (version: number): string => `# bench/reload-peers.ts: hello world, version ${version}
import time

VERSION = ${version}
PAD = 'x' * ${SLOW_PAD}


def app(environ, start_response):
    if environ.get('PATH_INFO') == '/slow':
        time.sleep(${SLOW_MS / 1000})
        body = ('slow v%d %s end' % (VERSION, PAD)).encode()
    else:
        body = ('hello v%d' % VERSION).encode()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
`;

const slowBodyLength = (version: number): number => `slow v${version}  end`.length + SLOW_PAD;

/** A started runner: its port, how to rewrite the app, and how to stop everything it started. */
type Peer = {
  port: number;
  write(version: number): void;
  stop(): Promise<void>;
  /** Arbiter only. */
  reportedMs?: () => number[];
  cycles?: () => { triggered: number; failed: number };
};

const started = new Set<Peer>();

/** Stops every runner still running (for the benchmark's signal and failure paths). */
export async function stopPeers(): Promise<void> {
  const peers = [...started];
  started.clear();
  await Promise.allSettled(peers.map((peer) => peer.stop()));
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Fresh-connection GETs every POLL_INTERVAL_MS (at most POLL_MAX_IN_FLIGHT at once) until one
 * answers `hello v<version>`; resolves with when that response ended (performance.now()).
 */
function whenLive(port: number, version: number, deadlineMs = LIVE_DEADLINE_MS): Promise<number> {
  return whenServed(port, `hello v${version}`, deadlineMs, {
    intervalMs: POLL_INTERVAL_MS,
    maxInFlight: POLL_MAX_IN_FLIGHT,
  });
}

/** A process in its own group, with the tail of its output kept to explain a failure. */
export function spawnGroup(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (output = (output + chunk).slice(-4_000)));
  }
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  child.once('error', () => undefined);
  return { child, exited, output: () => output };
}

/** SIGTERM to the whole group, then SIGKILL to it after a few seconds whatever happened. */
export async function killGroup(child: ChildProcess, exited: Promise<void>): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // the group is gone
    }
  };
  signal('SIGTERM');
  await within(exited, 5_000, 'stop').catch(() => undefined);
  await pause(200); // members of the group that outlive its leader
  signal('SIGKILL');
}

/** A runner started in `dir` with the app at version 1, once it answers `hello v1`. */
async function startPeer(name: RunnerName, dir: string): Promise<Peer> {
  const port = await freePort();
  const python = PYTHON_RUNNERS.has(name);
  const appFile = join(dir, python ? 'app.py' : 'app.js');
  const write = (version: number) => writeFileSync(appFile, python ? pythonApp(version) : nodeApp(version));
  write(1);
  if (name === 'arbiter' || name === 'arbiter (Python)') {
    const server = await ArbiterServer.start(python ? 'app:app' : appFile, WORKERS, BOOT_DEADLINE_MS, {
      cwd: dir,
      bind: `127.0.0.1:${port}`,
      reload: true,
      detached: true,
      ...(python ? { args: ['--python', PYTHON] } : {}),
    });
    const peer: Peer = {
      port,
      write,
      stop: async () => void (await server.stop()),
      reportedMs: () =>
        server
          .all('reload')
          .filter((event) => event.phase === 'completed')
          .map((event) => ('durationMs' in event ? (event.durationMs ?? NaN) : NaN)),
      cycles: () => {
        const reloads = server.all('reload');
        return {
          triggered: reloads.filter((event) => event.phase === 'triggered').length,
          failed: reloads.filter((event) => event.phase === 'failed').length,
        };
      },
    };
    started.add(peer);
    await whenLive(port, 1, BOOT_DEADLINE_MS);
    return peer;
  }
  const [command, args, env] = ((): [string, string[], NodeJS.ProcessEnv] => {
    switch (name) {
      case 'nodemon':
        return [NODEMON, ['app.js'], { PORT: String(port) }];
      case 'node --watch':
        return [process.execPath, ['--watch', 'app.js'], { PORT: String(port) }];
      case 'gunicorn':
        return [
          PYTHON,
          [
            '-m',
            'gunicorn',
            '--reload',
            '--reload-engine',
            'inotify',
            '-w',
            String(WORKERS),
            '-b',
            `127.0.0.1:${port}`,
            'app:app',
          ],
          // Without this, a rewrite within the same second and of the same size could be served
          // from a stale __pycache__ (its check is mtime in seconds + size).
          { PYTHONDONTWRITEBYTECODE: '1' },
        ];
    }
  })();
  const group = spawnGroup(command, args, dir, env);
  const peer: Peer = { port, write, stop: () => killGroup(group.child, group.exited) };
  started.add(peer);
  try {
    await whenLive(port, 1, BOOT_DEADLINE_MS);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- ${name} output ---\n${group.output()}`, {
      cause: error,
    });
  }
  return peer;
}

/** Edit → first fresh-connection response showing the new version, `LATENCY_EDITS` times. */
async function measureLatency(peer: Peer, version: { n: number }): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_EDITS; i++) {
    const next = ++version.n;
    const editAt = performance.now();
    peer.write(next);
    latencies.push((await whenLive(peer.port, next)) - editAt);
    await pause(QUIET_MS);
  }
  return latencies;
}

/** `LOAD_CLIENTS` loops of fresh-connection GETs while the app is edited `reloads` times. */
async function measureUnderLoad(
  peer: Peer,
  version: { n: number },
  reloads: number,
): Promise<{ requests: number; failed: number }> {
  let running = true;
  let requests = 0;
  let failed = 0;
  let seen = version.n;
  let onSeen: (() => void) | undefined;
  const client = async () => {
    while (running) {
      requests++;
      try {
        const response = await get(peer.port, '/');
        const match = /^hello v(\d+)$/.exec(response.body);
        if (response.status !== 200 || !match) failed++;
        else if (Number(match[1]) > seen) {
          seen = Number(match[1]);
          onSeen?.();
        }
      } catch {
        failed++;
      }
    }
  };
  const clients = Array.from({ length: LOAD_CLIENTS }, client);
  try {
    await pause(QUIET_MS);
    for (let i = 0; i < reloads; i++) {
      const next = ++version.n;
      const live = new Promise<void>((resolveLive) => {
        onSeen = () => {
          if (seen >= next) resolveLive();
        };
      });
      peer.write(next);
      await within(live, LIVE_DEADLINE_MS, `version ${next} live under load`);
      await pause(QUIET_MS);
    }
    await pause(LOAD_TAIL_MS);
  } finally {
    running = false;
    await Promise.all(clients);
  }
  return { requests, failed };
}

/** A /slow request started, the app edited while it is in flight: did it end 200 with its full body? */
async function measureSlow(peer: Peer, version: { n: number }): Promise<number> {
  let ok = 0;
  for (let i = 0; i < SLOW_TRIES; i++) {
    const old = version.n;
    const slow = get(peer.port, '/slow').then(
      (response) =>
        response.status === 200 &&
        response.body.length === slowBodyLength(old) &&
        response.body.startsWith(`slow v${old} `) &&
        response.body.endsWith(' end'),
      () => false,
    );
    await pause(SLOW_EDIT_AFTER_MS);
    const next = ++version.n;
    peer.write(next);
    if (await slow) ok++;
    await whenLive(peer.port, next);
    await pause(QUIET_MS);
  }
  return ok;
}

function gunicornMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import gunicorn, inotify'], { stdio: 'ignore' });
  return probe.status === 0
    ? undefined
    : 'gunicorn or inotify not installed for /usr/bin/python3: `apt-get install -y python3-gunicorn python3-inotify`';
}

const COMMANDS: Record<RunnerName, string> = {
  arbiter: `arbiter -w ${WORKERS} -b 127.0.0.1:PORT app.js (cwd = the project)`,
  nodemon: 'nodemon app.js',
  'node --watch': 'node --watch app.js',
  gunicorn: `python3 -m gunicorn --reload --reload-engine inotify -w ${WORKERS} -b 127.0.0.1:PORT app:app`,
  'arbiter (Python)': `arbiter --python /usr/bin/python3 -w ${WORKERS} -b 127.0.0.1:PORT app:app (gunicorn sync workers)`,
};

async function measurePeer(name: RunnerName, log: (message: string) => void): Promise<PeerFigures> {
  const figures: PeerFigures = {
    name,
    command: COMMANDS[name],
    latencies: [],
    loadReloads: name === 'arbiter' ? ARBITER_LOAD_RELOADS : LOAD_RELOADS,
    loadRequests: 0,
    loadFailed: 0,
    slowOk: 0,
    slowTries: SLOW_TRIES,
  };
  if (name === 'gunicorn') figures.skipped = gunicornMissing();
  if (name === 'arbiter (Python)') {
    const probe = spawnSync(PYTHON, ['-c', 'import gunicorn'], { stdio: 'ignore' });
    if (probe.status !== 0)
      figures.skipped = 'gunicorn not installed for /usr/bin/python3: `apt-get install -y python3-gunicorn`';
  }
  if (name === 'nodemon') {
    const probe = spawnSync(NODEMON, ['--version'], { stdio: 'ignore' });
    if (probe.status !== 0)
      figures.skipped = 'nodemon not installed: `npm install --save-dev --save-exact nodemon@3`';
  }
  if (figures.skipped) {
    log(`${name}: skipped (${figures.skipped})`);
    return figures;
  }
  const dir = mkdtempSync(join(os.tmpdir(), `arbiter-reload-${name.replace(/\W+/g, '-')}-`));
  let peer: Peer | undefined;
  try {
    peer = await startPeer(name, dir);
    const version = { n: 1 };
    await pause(QUIET_MS);
    figures.latencies = await measureLatency(peer, version);
    log(
      `${name}: edit → live median ${median(figures.latencies).toFixed(1)} ms, p95 ${percentile(figures.latencies, 95).toFixed(1)} ms`,
    );
    const load = await measureUnderLoad(peer, version, figures.loadReloads);
    figures.loadRequests = load.requests;
    figures.loadFailed = load.failed;
    log(`${name}: ${load.failed} of ${load.requests} requests failed across ${figures.loadReloads} reloads`);
    figures.slowOk = await measureSlow(peer, version);
    log(`${name}: slow request completed across an edit ${figures.slowOk} of ${SLOW_TRIES} times`);
    figures.reportedMs = peer.reportedMs?.();
    const cycles = peer.cycles?.();
    if (cycles) figures.cycles = { edits: version.n - 1, ...cycles };
  } catch (error) {
    figures.error = (error as Error).message.split('\n')[0];
    log(`${name}: failed: ${(error as Error).stack ?? String(error)}`);
  } finally {
    if (peer) {
      started.delete(peer);
      await peer.stop();
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

/** Every runner in turn, each in a fresh temp project; never throws for one runner's failure. */
export async function measureReloadPeers(log: (message: string) => void): Promise<PeerFigures[]> {
  const runners: RunnerName[] = ['arbiter', 'nodemon', 'node --watch', 'gunicorn', 'arbiter (Python)'];
  const results: PeerFigures[] = [];
  for (const name of runners) results.push(await measurePeer(name, log));
  return results;
}

const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : '—');
const row = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;

export function renderReloadPeers(peers: readonly PeerFigures[], elapsedSeconds: number): string {
  const rows = peers.map((peer) => {
    if (peer.skipped) return row([peer.name, `skipped: ${peer.skipped}`, '', '', '', '', '']);
    const measured = peer.latencies.length > 0;
    return row([
      peer.name,
      measured ? fixed(median(peer.latencies)) : '—',
      measured ? fixed(percentile(peer.latencies, 95)) : '—',
      String(peer.latencies.length),
      peer.loadRequests ? `${peer.loadFailed} of ${peer.loadRequests} (${peer.loadReloads} reloads)` : '—',
      peer.loadRequests ? fixed(peer.loadFailed / peer.loadReloads, 2) : '—',
      peer.error
        ? `— (failed: ${peer.error.replace(/\|/g, '\\|')})`
        : `${peer.slowOk === peer.slowTries ? 'yes' : 'no'} (${peer.slowOk}/${peer.slowTries})`,
    ]);
  });
  const byName = new Map(peers.map((peer) => [peer.name, peer]));
  const arbiter = byName.get('arbiter');
  const ratioRow = (other: RunnerName, ours: RunnerName = 'arbiter') => {
    const mine = byName.get(ours);
    const peer = byName.get(other);
    const usable = (p?: PeerFigures) => p && !p.skipped && p.latencies.length > 0;
    if (!usable(mine) || !usable(peer)) return row([`${ours} / ${other}`, '—', '—']);
    return row([
      `${ours} / ${other}`,
      fixed(median(mine!.latencies) / median(peer!.latencies), 2),
      fixed(percentile(mine!.latencies, 95) / percentile(peer!.latencies, 95), 2),
    ]);
  };
  const reported = arbiter?.reportedMs ?? [];
  const cycles = arbiter?.cycles;
  const cycleNote = cycles
    ? `For its ${cycles.edits} edits the arbiter's watcher started ${cycles.triggered} cycles (\`reload\` triggered events), ${cycles.failed} of which failed.`
    : '';
  return `## Reload on save: arbiter vs. nodemon, node --watch and gunicorn --reload (and the arbiter on the same WSGI app)

Generated by \`npm run bench\` (bench/reload-peers.ts), in ${fixed(elapsedSeconds, 0)} s.

| runner | edit → live, median (ms) | p95 (ms) | edits | failed requests under load | failed per reload | slow request in flight survives an edit |
|---|---:|---:|---:|---:|---:|---|
${rows.join('\n')}

| latency ratio | median | p95 |
|---|---:|---:|
${ratioRow('nodemon')}
${ratioRow('gunicorn')}
${ratioRow('gunicorn', 'arbiter (Python)')}

${reported.length ? `The arbiter's own \`durationMs\` of its ${reported.length} completed cycles: median ${fixed(median(reported))} ms, p95 ${fixed(percentile(reported, 95))} ms. ` : ''}${cycleNote}

Method:

- Each runner in turn, in a fresh temp project holding only the app: \`app.js\` (plain
  \`node:http\`, answers \`hello v<N>\`, and \`/slow\` after ${SLOW_MS / 1000} s with a
  ${SLOW_PAD / 1024} KiB body) or, for gunicorn, its WSGI twin \`app.py\` (sync workers,
  \`PYTHONDONTWRITEBYTECODE=1\`; the same \`app.py\` under the arbiter's Python runtime, on
  gunicorn's sync workers, for \`arbiter (Python)\`). An edit rewrites the whole file in place with N + 1. Commands, all
  with the project as cwd and their defaults otherwise: ${peers.map((peer) => `${peer.name}: \`${peer.command}\``).join('; ')}.
- Edit → live: from just before the write to the end of the first response reading the new
  version, on a fresh connection opened every ${POLL_INTERVAL_MS} ms (at most ${POLL_MAX_IN_FLIGHT} in
  flight); ${LATENCY_EDITS} edits, each after the previous one was live and ${QUIET_MS} ms of quiet.
- Failed requests: ${LOAD_CLIENTS} clients in a loop, each request on a fresh connection
  (${REQUEST_TIMEOUT_MS / 1000} s timeout), across the reloads (${LOAD_RELOADS} per runner, ${ARBITER_LOAD_RELOADS}
  for the arbiter; each edit once the previous version was seen by a client, then ${QUIET_MS} ms),
  and ${LOAD_TAIL_MS / 1000} s after the last; a failure is a connection error, a timeout, a
  non-200 or a body that is not a hello.
- Slow request: \`GET /slow\` on a fresh connection, the edit ${SLOW_EDIT_AFTER_MS} ms later; it
  counts if it ends 200 with the full body of the old version; ${SLOW_TRIES} tries.
- Every runner is started in its own process group, which is killed (TERM, then KILL) when it is
  done.
`;
}
