/**
 * `npm run bench`: the arbiter side by side with Node's own cluster module, in one run, on
 * this machine. Measures throughput (hello world, 2 workers each), the arbiter's idle CPU,
 * its memory, and how long a HUP takes to put a new generation in service; then reload on
 * save against nodemon, `node --watch` and gunicorn (bench/reload-peers.ts), and a 40,000-file
 * project against nodemon (bench/big-tree.ts), and the real-app fixtures against the reloaders
 * their users would pick (bench/real-apps/). Writes the tables to bench/results.md and prints
 * them; `--only real-apps` runs that last section alone and replaces it in bench/results.md.
 * Every process it starts is stopped before it exits, whether the run succeeds or fails.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { measureActivation, renderActivation, type ActivationFigures } from './activation';
import { ArbiterServer, ROOT } from './arbiter-server';
import { measureBigTree, renderBigTree, stopBigTree, type BigTreeFigures } from './big-tree';
import { ClusterServer } from './cluster-server';
import { pause } from './deadline';
import { LOAD, measureThroughput, type LoadResult } from './load';
import { cpuDuring, memoryOf, type MemorySnapshot } from './measure';
import { CLOCK_TICKS } from './proc';
import { measureReload } from './reload';
import { measureRealApps, stopRealApps, type RealAppsFigures } from './real-apps/index';
import { renderRealApps, replaceRealAppsSection } from './real-apps/render';
import { measureReloadPeers, renderReloadPeers, stopPeers, type PeerFigures } from './reload-peers';
import { renderReport, type Figures, type LoadRun } from './report';
import { measureRequestCost, renderRequestCost, type RequestCostFigures } from './request-cost';

const APP = resolve(__dirname, 'fixtures/hello.mjs');
const RESULTS = resolve(ROOT, 'bench/results.md');
const WORKERS = 2;
const IDLE_SECONDS = 10;
const RELOADS = 20;
/** Reloads timed by their event alone, without the polling's load on the 2 cores. */
const QUIET_RELOADS = 10;
/**
 * Between two timed HUPs: long enough for the standbys started after the last cycle to be up,
 * as between two saves. Back-to-back HUPs would find them still starting and time a cold boot.
 */
const RELOAD_GAP_MS = 300;
/** After boot, before anything is measured: lets start-up work (JIT, GC, first heartbeats) settle. */
const SETTLE_MS = 2_000;
/** After a load run: long enough for every worker's next heartbeat to report its final count. */
const HEARTBEAT_CATCH_UP_MS = 1_500;
/** A load run during which other processes and guests took more than this (% of a core) is redone. */
const DISTURBED_PERCENT = 25;
/** Attempts per load run in all, so that a busy machine cannot stretch the benchmark much. */
const MAX_ATTEMPTS = 2;

/** Fresh VS Code extension hosts, one activation each. */
const ACTIVATIONS = 5;

const NOT_MEASURED: MemorySnapshot = { rootBytes: NaN, treeBytes: NaN, members: [] };

type Stoppable = { stop(): Promise<unknown> };
const running = new Set<Stoppable>();

/** Runs `body` with a started server, and always stops it afterwards. */
async function using<S extends Stoppable>(start: () => Promise<S>, body: (server: S) => Promise<void>) {
  const server = await start();
  running.add(server);
  try {
    await body(server);
  } finally {
    running.delete(server);
    await server.stop();
  }
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** A load run against `port`, with the CPU each process involved used meanwhile. */
async function loadRun(port: number, supervisor: number, workers: readonly number[]): Promise<LoadRun> {
  let result!: LoadResult;
  const cpu = await cpuDuring(
    [supervisor, process.pid, ...workers],
    async () => (result = await measureThroughput(port)),
  );
  return {
    ...result,
    attempts: 1,
    cpu: {
      supervisor: cpu.byPid.get(supervisor)!,
      loadGenerator: cpu.byPid.get(process.pid)!,
      workers: workers.map((pid) => cpu.byPid.get(pid)!),
      others: cpu.others,
      steal: cpu.steal,
    },
  };
}

/** Whether other processes or other guests took enough CPU during a run to make it incomparable. */
const disturbed = (run: LoadRun): boolean => run.cpu.others + run.cpu.steal > DISTURBED_PERCENT;

/**
 * One arbiter load run, and how its workers shared the requests; a disturbed run is measured
 * again (at most MAX_ATTEMPTS in all). Returns the memory right after the run kept.
 */
async function loadArbiter(server: ArbiterServer, figures: Figures): Promise<MemorySnapshot> {
  const workers = server.livePids();
  let run: LoadRun | undefined;
  let memory = NOT_MEASURED;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS && (!run || disturbed(run)); attempt++) {
    if (run) log(`arbiter run disturbed (others ${run.cpu.others.toFixed(0)} %), measuring again`);
    const servedBefore = server.servedByPid();
    const measured = await loadRun(server.port, server.pid, workers);
    memory = memoryOf(server.pid);
    await pause(HEARTBEAT_CATCH_UP_MS);
    const servedAfter = server.servedByPid();
    const served = workers.map((pid) => (servedAfter.get(pid) ?? 0) - (servedBefore.get(pid) ?? 0));
    const total = served.reduce((sum, count) => sum + count, 0);
    run = { ...measured, attempts: attempt, split: served.map((count) => count / total) };
  }
  figures.arbiterRuns.push(run!);
  log(`arbiter: ${Math.round(run!.requestsPerSecond)} req/s`);
  return memory;
}

/** One cluster load run; a disturbed run is measured again, as for the arbiter. */
async function loadCluster(server: ClusterServer, figures: Figures): Promise<void> {
  let run: LoadRun | undefined;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS && (!run || disturbed(run)); attempt++) {
    if (run) log(`cluster run disturbed (others ${run.cpu.others.toFixed(0)} %), measuring again`);
    run = { ...(await loadRun(server.port, server.pid, server.workerPids)), attempts: attempt };
  }
  figures.clusterMemory.afterLoad.push(memoryOf(server.pid));
  figures.clusterRuns.push(run!);
  log(`cluster: ${Math.round(run!.requestsPerSecond)} req/s`);
}

type Outcome = {
  figures: Figures;
  requestCost: RequestCostFigures;
  peers: PeerFigures[];
  peersSeconds: number;
  bigTree: BigTreeFigures;
  bigTreeSeconds: number;
  activation: ActivationFigures;
  realApps: RealAppsFigures;
};

/** `--only real-apps`: the one section that may run alone (it is the longest). */
function onlySection(args: readonly string[]): 'real-apps' | undefined {
  if (args.length === 0) return undefined;
  if (args.length === 2 && args[0] === '--only' && args[1] === 'real-apps') return 'real-apps';
  throw new Error(`bench: unknown arguments ${JSON.stringify(args)} (the one option is --only real-apps)`);
}

async function main(): Promise<Outcome> {
  const startedAt = performance.now();
  const figures: Figures = {
    arbiterRuns: [],
    clusterRuns: [],
    idle: { arbiter: NaN, workers: [], seconds: IDLE_SECONDS },
    arbiterMemory: { boot: NOT_MEASURED, afterLoad: [], afterReloads: NOT_MEASURED },
    clusterMemory: { boot: NOT_MEASURED, afterLoad: [] },
    reloads: [],
    quietReloads: [],
    arbiterExitCodes: [],
    elapsedSeconds: NaN,
  };
  const startArbiter = async () => {
    const server = await ArbiterServer.start(APP, WORKERS);
    // Recorded when stopped, so that a stop that needed a kill shows in the report.
    const stop = server.stop.bind(server);
    server.stop = async (deadlineMs?: number) => {
      const exit = await stop(deadlineMs);
      figures.arbiterExitCodes.push(exit.code);
      return exit;
    };
    return server;
  };

  // Run 1 of the arbiter: boot memory, idle CPU, then load.
  log('arbiter run 1: boot, idle, load');
  await using(startArbiter, async (server) => {
    await pause(SETTLE_MS);
    figures.arbiterMemory.boot = memoryOf(server.pid);
    const workers = server.livePids();
    const idle = await cpuDuring([server.pid, ...workers], () => pause(IDLE_SECONDS * 1000));
    figures.idle = {
      arbiter: idle.byPid.get(server.pid)!,
      workers: workers.map((pid) => idle.byPid.get(pid)!),
      seconds: IDLE_SECONDS,
    };
    log(`idle: arbiter ${figures.idle.arbiter.toFixed(2)} % of a core`);
    figures.arbiterMemory.afterLoad.push(await loadArbiter(server, figures));
  });

  log('cluster run 1');
  await using(
    () => ClusterServer.start(WORKERS),
    async (server) => {
      await pause(SETTLE_MS);
      figures.clusterMemory.boot = memoryOf(server.pid);
      await loadCluster(server, figures);
    },
  );

  // Run 2 of the arbiter: load, then the reloads on the same (now warm) arbiter.
  log('arbiter run 2: load, then reloads');
  await using(startArbiter, async (server) => {
    await pause(SETTLE_MS);
    figures.arbiterMemory.afterLoad.push(await loadArbiter(server, figures));
    let generation = 1;
    for (let i = 0; i < RELOADS; i++, generation++) {
      await pause(RELOAD_GAP_MS);
      const sample = await measureReload(server, generation, { poll: true });
      figures.reloads.push(sample);
      log(
        `reload ${i + 1}: completed ${sample.completedMs.toFixed(1)} ms, first new response ${sample.firstNewResponseMs.toFixed(1)} ms`,
      );
    }
    for (let i = 0; i < QUIET_RELOADS; i++, generation++) {
      await pause(RELOAD_GAP_MS);
      figures.quietReloads.push(await measureReload(server, generation, { poll: false }));
    }
    figures.arbiterMemory.afterReloads = memoryOf(server.pid);
  });

  log('cluster run 2');
  await using(
    () => ClusterServer.start(WORKERS),
    async (server) => {
      await pause(SETTLE_MS);
      await loadCluster(server, figures);
    },
  );

  log('request cost: an arbiter worker against plain node, pinned');
  const requestCost = await measureRequestCost(APP, log);

  log('reload on save: arbiter, nodemon, node --watch, gunicorn');
  const peersStartedAt = performance.now();
  const peers = await measureReloadPeers(log);
  const peersSeconds = (performance.now() - peersStartedAt) / 1000;

  log('big tree: 20,000 project files + 20,000 in node_modules, arbiter vs. nodemon');
  const bigTreeStartedAt = performance.now();
  const bigTree = await measureBigTree(log);
  const bigTreeSeconds = (performance.now() - bigTreeStartedAt) / 1000;

  log('extension activation in code-server');
  const activation = await measureActivation(ACTIVATIONS, log);

  log('real apps: the arbiter and the reloaders their users would pick');
  const realApps = await measureRealApps(log);

  figures.elapsedSeconds = (performance.now() - startedAt) / 1000;
  return { figures, requestCost, peers, peersSeconds, bigTree, bigTreeSeconds, activation, realApps };
}

async function stopEverything(): Promise<void> {
  const servers = [...running];
  running.clear();
  await Promise.allSettled([
    ...servers.map((server) => server.stop()),
    stopPeers(),
    stopBigTree(),
    stopRealApps(),
  ]);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping every server started`);
    void stopEverything().finally(() => process.exit(130));
  });
}

function fail(error: unknown): Promise<void> {
  return stopEverything().then(() => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}

/** The real-apps section alone, written in place of the one bench/results.md has. */
async function realAppsOnly(): Promise<void> {
  log('real apps only: the arbiter and the reloaders their users would pick');
  const section = renderRealApps(await measureRealApps(log));
  const before = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '';
  writeFileSync(RESULTS, replaceRealAppsSection(before, section));
  process.stdout.write(section);
  log(`written to ${RESULTS}`);
}

const only = (() => {
  try {
    return onlySection(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
})();

if (only === 'real-apps') realAppsOnly().catch(fail);
else
  main().then(
    ({ figures, requestCost, peers, peersSeconds, bigTree, bigTreeSeconds, activation, realApps }) => {
      const report = renderReport(figures, {
        date: new Date().toISOString(),
        node: process.version,
        cpu: os.cpus()[0]?.model ?? 'unknown CPU',
        cores: os.cpus().length,
        memoryBytes: os.totalmem(),
        kernel: `${os.type()} ${os.release()}`,
        clockTicks: CLOCK_TICKS,
        load: LOAD,
        workers: WORKERS,
        reloads: RELOADS,
        settleSeconds: SETTLE_MS / 1000,
        disturbedPercent: DISTURBED_PERCENT,
      }).concat(
        '\n',
        renderRequestCost(requestCost),
        '\n',
        renderReloadPeers(peers, peersSeconds),
        '\n',
        renderBigTree(bigTree, bigTreeSeconds),
        '\n',
        renderActivation(activation),
        '\n',
        renderRealApps(realApps),
      );
      writeFileSync(RESULTS, report);
      process.stdout.write(report);
      log(`written to ${RESULTS}`);
    },
    fail,
  );
