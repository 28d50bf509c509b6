/**
 * What the worker runtime costs per request: the CPU a serving process spends on a fixed
 * number of requests, an arbiter worker against the same app under plain `node`. The
 * throughput table compares whole servers, where the kernel's split of the load's keep-alive
 * connections between two workers sharing one socket (the cluster module deals them round-robin)
 * moves the figure by ±10 % from run to run; this isolates the runtime. The serving process is
 * pinned to one core and the load generator to the other (taskset), so neither steals the
 * other's; rounds alternate, and the median of each side is compared.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { ArbiterServer } from './arbiter-server';
import { pause } from './deadline';
import { CLOCK_TICKS, cpuTicks } from './proc';
import { freePort } from './reload-peers';
import { median } from './stats';
import { whenServed } from './when-served';

const ROUNDS = 3;
const WARMUP_REQUESTS = 20_000;
const REQUESTS = 200_000;
const CONNECTIONS = 50;
const PLAIN_BOOT_DEADLINE_MS = 10_000;

export type RequestCostFigures = {
  /** CPU microseconds per request of each round, per side; empty when not measured. */
  plainMicros: number[];
  arbiterMicros: number[];
  pinned: boolean;
  requests: number;
};

const hasTaskset = spawnSync('taskset', ['--version']).status === 0;

/** Pins `pid` (all its threads) to `cpus`; whether it could. */
function pin(pid: number, cpus: string): boolean {
  return hasTaskset && spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)]).status === 0;
}

/** CPU microseconds per request that `pid` spent serving `REQUESTS` requests on `port`. */
async function costOf(pid: number, port: number): Promise<number> {
  const url = `http://127.0.0.1:${port}/`;
  await autocannon({ url, connections: CONNECTIONS, amount: WARMUP_REQUESTS });
  const before = cpuTicks(pid);
  const result = await autocannon({ url, connections: CONNECTIONS, amount: REQUESTS });
  const ticks = cpuTicks(pid) - before;
  const served = result.requests.total - result.non2xx - result.errors;
  return ((ticks / CLOCK_TICKS) * 1e6) / served;
}

/** The app under plain node, on a free port chosen here; resolves once it answers. */
async function startPlain(app: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, [app], {
    env: { ...process.env, PORT: String(port) },
    stdio: 'ignore',
  });
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  await whenServed(port, 'hello', PLAIN_BOOT_DEADLINE_MS, { intervalMs: 20, maxInFlight: 1, gaveUp: exited });
  return { child, port };
}

async function stopPlain(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  child.kill('SIGKILL');
  await exited;
}

export async function measureRequestCost(
  app: string,
  log: (message: string) => void,
): Promise<RequestCostFigures> {
  const figures: RequestCostFigures = {
    plainMicros: [],
    arbiterMicros: [],
    pinned: false,
    requests: REQUESTS,
  };
  const cpus = spawnSync('nproc', { encoding: 'utf8' }).stdout.trim();
  const pinnable = hasTaskset && Number(cpus) >= 2;
  // The load generator (this process) on core 0 for the measurement, the server on core 1.
  figures.pinned = pinnable && pin(process.pid, '0');
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const plain = await startPlain(app);
      try {
        if (figures.pinned) pin(plain.child.pid!, '1');
        figures.plainMicros.push(await costOf(plain.child.pid!, plain.port));
      } finally {
        await stopPlain(plain.child);
      }
      const server = await ArbiterServer.start(app, 1, 20_000, { args: ['--no-standby'] });
      try {
        const [worker] = server.livePids();
        if (figures.pinned) pin(worker!, '1');
        figures.arbiterMicros.push(await costOf(worker!, server.port));
      } finally {
        await server.stop();
      }
      log(
        `request cost round ${round + 1}: plain ${figures.plainMicros.at(-1)!.toFixed(1)} µs, arbiter worker ${figures.arbiterMicros.at(-1)!.toFixed(1)} µs`,
      );
      await pause(100);
    }
  } finally {
    if (figures.pinned) pin(process.pid, `0-${Number(cpus) - 1}`);
  }
  return figures;
}

export function renderRequestCost(figures: RequestCostFigures): string {
  const plain = median(figures.plainMicros);
  const arbiter = median(figures.arbiterMicros);
  const rounds = (values: number[]) => values.map((value) => value.toFixed(1)).join(', ');
  return [
    '## What the worker runtime costs per request',
    '',
    `CPU time of the serving process for ${figures.requests.toLocaleString('en')} hello-world requests (${CONNECTIONS} keep-alive connections), after ${WARMUP_REQUESTS.toLocaleString('en')} to warm up: an arbiter worker (\`-w 1\`) against the same app under plain \`node\`. ${figures.pinned ? 'Server pinned to core 1, load generator to core 0 (taskset).' : 'Not pinned (no taskset or one core): noisier.'} Rounds alternate; medians compared.`,
    '',
    '| process | µs of CPU per request, median | rounds |',
    '|---|---:|---|',
    `| plain node | ${plain.toFixed(1)} | ${rounds(figures.plainMicros)} |`,
    `| arbiter worker | ${arbiter.toFixed(1)} | ${rounds(figures.arbiterMicros)} |`,
    `| arbiter / plain | **${(arbiter / plain).toFixed(2)}** | |`,
    '',
  ].join('\n');
}
