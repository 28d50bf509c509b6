/**
 * The real-apps section of `npm run bench`: each real-app fixture under the arbiter and under
 * the peers a user of it would pick, one after another in one run, each on a fresh copy with the
 * same edits. Counts and the set measured come from the environment, so that the harness can be
 * tried on a few apps with a few edits:
 *
 *   ARBITER_BENCH_EDITS    saves timed for edit → live, per runner [16]
 *   ARBITER_BENCH_RELOADS  saves under bounded load, per runner [20]
 *   ARBITER_BENCH_APPS     comma-separated app names [all]
 *   ARBITER_BENCH_WORKERS  comma-separated worker counts the arbiter runs with [1]
 *   ARBITER_BENCH_QUIET_MS quiet after a version is live, before the next save [150]
 */
import { median } from '../stats';
import { APPS, prepare, startServices, type AppServices, type AppSpec, type PreparedApp } from './apps';
import { installPeers } from './install';
import { measureRun, type RunFigures } from './measure';
import { ARBITER_APP, PEERS, arbiter, type RunnerSpec } from './runners';
import { startRunner, type Started } from './start';

export type RunnerResult = {
  runner: RunnerSpec;
  figures?: RunFigures;
  /** Why it was not measured, or where it failed. */
  skipped?: string;
  error?: string;
};

export type AppResult = { app: AppSpec; runners: RunnerResult[]; skipped?: string; seconds: number };

export type RealAppsSettings = { edits: number; reloads: number; workers: number[] };

export type RealAppsFigures = { settings: RealAppsSettings; apps: AppResult[]; seconds: number };

const count = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, not ${process.env[name]}`);
  return value;
};

export function realAppsSettings(): RealAppsSettings {
  const workers = (process.env.ARBITER_BENCH_WORKERS ?? '1').split(',').map(Number);
  if (workers.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(
      `ARBITER_BENCH_WORKERS must list positive integers, not ${process.env.ARBITER_BENCH_WORKERS}`,
    );
  return { edits: count('ARBITER_BENCH_EDITS', 16), reloads: count('ARBITER_BENCH_RELOADS', 20), workers };
}

function chosenApps(): AppSpec[] {
  const names = process.env.ARBITER_BENCH_APPS?.split(',').filter(Boolean);
  if (!names) return [...APPS];
  const unknown = names.filter((name) => !APPS.some((app) => app.name === name));
  if (unknown.length)
    throw new Error(
      `ARBITER_BENCH_APPS: no app ${unknown.join(', ')} (${APPS.map((a) => a.name).join(', ')})`,
    );
  return APPS.filter((app) => names.includes(app.name));
}

const running = new Set<Started>();
const services = new Set<AppServices>();

/** Stops every runner and service still running (for the benchmark's signal and failure paths). */
export async function stopRealApps(): Promise<void> {
  const started = [...running];
  running.clear();
  const held = [...services];
  services.clear();
  await Promise.allSettled(started.map((runner) => runner.stop()));
  await Promise.allSettled(held.map((service) => service.stop()));
}

async function measureRunner(
  app: AppSpec,
  runner: RunnerSpec,
  held: AppServices,
  settings: RealAppsSettings,
  log: (message: string) => void,
): Promise<RunnerResult> {
  if (runner.skip) return { runner, skipped: runner.skip };
  let prepared: PreparedApp | undefined;
  let started: Started | undefined;
  try {
    prepared = await prepare(app, held, runner.name);
    started = await startRunner(app, runner, prepared, (s) => running.add((started = s)));
    return { runner, figures: await measureRun(app, runner, prepared, started, settings) };
  } catch (error) {
    // What the runner printed last says why it gave up (runserver exits on an import error).
    const output = started?.output().slice(-2_000);
    log(
      `${app.name} / ${runner.name}: failed: ${(error as Error).stack ?? String(error)}` +
        (output ? `\n--- ${runner.name} output ---\n${output}` : ''),
    );
    return { runner, error: (error as Error).message.split('\n')[0] };
  } finally {
    if (started) {
      running.delete(started);
      await started.stop();
    }
    prepared?.dispose();
  }
}

async function measureApp(
  app: AppSpec,
  settings: RealAppsSettings,
  log: (message: string) => void,
): Promise<AppResult> {
  const startedAt = performance.now();
  const seconds = () => (performance.now() - startedAt) / 1000;
  const skipped = app.missing?.();
  if (skipped) {
    log(`${app.name}: skipped (${skipped})`);
    return { app, runners: [], skipped, seconds: 0 };
  }
  const runners = [...settings.workers.map((n) => arbiter(n, ARBITER_APP[app.name])), ...PEERS[app.name]];
  let held: AppServices;
  try {
    held = await startServices(app);
  } catch (error) {
    log(`${app.name}: its services did not start: ${(error as Error).stack ?? String(error)}`);
    return {
      app,
      runners: [],
      skipped: `its services did not start: ${(error as Error).message}`,
      seconds: 0,
    };
  }
  services.add(held);
  const results: RunnerResult[] = [];
  try {
    for (const runner of runners) {
      const result = await measureRunner(app, runner, held, settings, log);
      const f = result.figures;
      if (f) {
        log(
          `${app.name} / ${runner.name}: edit → live median ${median(f.latencies).toFixed(0)} ms, ` +
            `${f.loadFailed} of ${f.loadRequests} failed over ${f.loadReloads} reloads` +
            (f.hooks ? `, hook ran ${f.hooks.ran} of ${f.hooks.expected}` : ''),
        );
      }
      results.push(result);
    }
  } finally {
    services.delete(held);
    await held.stop();
  }
  return { app, runners: results, seconds: seconds() };
}

export async function measureRealApps(log: (message: string) => void): Promise<RealAppsFigures> {
  const startedAt = performance.now();
  const settings = realAppsSettings();
  const apps = chosenApps();
  installPeers(log);
  const results: AppResult[] = [];
  for (const app of apps) results.push(await measureApp(app, settings, log));
  return { settings, apps: results, seconds: (performance.now() - startedAt) / 1000 };
}
