/**
 * What is measured of one runner on one app, once it serves version 1: edit → live over
 * `edits` saves, failed requests under bounded load over `reloads` more, the shutdown hook's
 * runs over all of them, the memory of its process tree, and for the arbiter its own figures
 * (each cycle's `durationMs`, the cycles its watcher started, the hooks it reported, and the
 * boot profile of a `reload` event where the event stream has one).
 */
import type { BootProfile } from '../../runner/protocol/events';
import { pause, within } from '../deadline';
import { get } from '../fresh-get';
import { memoryOf } from '../measure';
import { writeVersion, type AppSpec, type PreparedApp } from './apps';
import type { RunnerSpec } from './runners';
import { whenVersion, type Started } from './start';

/** Concurrent clients of the bounded load, each a fresh connection per request. */
export const LOAD_CLIENTS = 4;
/** Quiet after a version is live, before the next save. */
// Short, to keep the section bounded; a warm standby still preloading when the next save comes
// is taken late (the profile's `process` part shows it): ARBITER_BENCH_QUIET_MS=3000 is closer to
// how often a person saves.
export const QUIET_MS = Number(process.env.ARBITER_BENCH_QUIET_MS ?? 150);
/** After the last reload under load: requests still failing late are counted too. */
export const LOAD_TAIL_MS = 1_000;
export const LIVE_DEADLINE_MS = 30_000;
/** The last reload's old process may still be running its hook when the new one serves. */
const HOOK_DEADLINE_MS = 10_000;

export type RunFigures = {
  latencies: number[];
  loadReloads: number;
  loadRequests: number;
  loadFailed: number;
  /** What the first few failures were, to tell a refused connection from a wrong answer. */
  failures: string[];
  /** Marks the app's shutdown hook printed, and how many processes were replaced. */
  hooks?: { ran: number; expected: number };
  /** RSS of every process of the runner, summed, after the reloads. */
  treeBytes: number;
  arbiter?: ArbiterFigures;
};

export type ArbiterFigures = {
  /** Its own `durationMs` of each completed cycle. */
  reportedMs: number[];
  triggered: number;
  failed: number;
  /** Worker hooks it reported run to their end, ok (by any name). */
  hooksReported: number;
  rootBytes: number;
  /** The boot profile of each completed cycle whose `reload` event carries one. */
  profiles: BootProfile[];
};

const VERSION = / v(\d+)/;

/** Edit → first fresh-connection answer with the new version, `edits` times. */
async function measureLatency(
  app: AppSpec,
  started: Started,
  save: (version: number) => void,
  version: { n: number },
  edits: number,
): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < edits; i++) {
    const next = ++version.n;
    const editAt = performance.now();
    save(next);
    latencies.push((await whenVersion(app, started, next, LIVE_DEADLINE_MS)) - editAt);
    await pause(QUIET_MS);
  }
  return latencies;
}

/** `LOAD_CLIENTS` loops of fresh-connection GETs while the app is saved `reloads` times. */
async function measureUnderLoad(
  app: AppSpec,
  started: Started,
  save: (version: number) => void,
  version: { n: number },
  reloads: number,
): Promise<{ requests: number; failed: number; failures: string[] }> {
  let running = true;
  let requests = 0;
  let seen = version.n;
  let onSeen: (() => void) | undefined;
  let failed = 0;
  const failures = new Set<string>();
  const fail = (why: string) => {
    failed++;
    if (failures.size < 3) failures.add(why);
  };
  const client = async () => {
    while (running) {
      requests++;
      try {
        const response = await get(started.port, app.path);
        const match = VERSION.exec(response.body);
        if (response.status !== app.status || !app.anyAnswer.test(response.body) || !match)
          fail(`${response.status} ${response.body.slice(0, 80)}`);
        else if (Number(match[1]) > seen) {
          seen = Number(match[1]);
          onSeen?.();
        }
      } catch (error) {
        fail((error as Error).message);
      }
    }
  };
  const clients = Array.from({ length: LOAD_CLIENTS }, client);
  try {
    await pause(QUIET_MS);
    for (let i = 0; i < reloads; i++) {
      const next = ++version.n;
      const live = new Promise<void>((resolveLive) => {
        onSeen = () => seen >= next && resolveLive();
      });
      save(next);
      await within(live, LIVE_DEADLINE_MS, `version ${next} live under load`);
      await pause(QUIET_MS);
    }
    await pause(LOAD_TAIL_MS);
  } finally {
    running = false;
    await Promise.all(clients);
  }
  return { requests, failed, failures: [...failures] };
}

function arbiterFigures(started: Started): ArbiterFigures | undefined {
  const server = started.arbiter;
  if (!server) return undefined;
  const reloads = server.all('reload');
  const completed = reloads.filter((event) => event.phase === 'completed');
  return {
    reportedMs: completed.map((event) => event.durationMs ?? NaN),
    triggered: reloads.filter((event) => event.phase === 'triggered').length,
    failed: reloads.filter((event) => event.phase === 'failed').length,
    hooksReported: server
      .all('hook')
      .filter((event) => event.scope === 'worker' && event.phase === 'end' && event.outcome === 'ok').length,
    rootBytes: memoryOf(server.pid).rootBytes,
    profiles: completed.flatMap((event) => (event.profile ? [event.profile] : [])),
  };
}

export async function measureRun(
  app: AppSpec,
  runner: RunnerSpec,
  prepared: PreparedApp,
  started: Started,
  counts: { edits: number; reloads: number },
): Promise<RunFigures> {
  const save = (version: number) => writeVersion(app, prepared.dir, prepared.original, version);
  const version = { n: 1 };
  await pause(QUIET_MS);
  const latencies = await measureLatency(app, started, save, version, counts.edits);
  const load = await measureUnderLoad(app, started, save, version, counts.reloads);
  let hooks: RunFigures['hooks'];
  if (app.hook) {
    const expected = (counts.edits + counts.reloads) * runner.processesPerReload;
    // A runner that swaps code in place runs no hook: nothing to wait for.
    if (runner.kind !== 'hot') await started.whenMarks(expected, HOOK_DEADLINE_MS).catch(() => undefined);
    hooks = { ran: started.marks(), expected };
  }
  const treeBytes = started
    .roots()
    .map((pid) => memoryOf(pid).treeBytes)
    .reduce((sum, bytes) => sum + bytes, 0);
  const arbiter = arbiterFigures(started);
  return {
    latencies,
    loadReloads: counts.reloads,
    loadRequests: load.requests,
    loadFailed: load.failed,
    failures: load.failures,
    ...(hooks ? { hooks } : {}),
    treeBytes,
    ...(arbiter ? { arbiter } : {}),
  };
}
