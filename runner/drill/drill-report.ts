/**
 * What a drill found, from what it saw: each run's event stream (the arbiter's own facts) and
 * its load's answers. Pure — runs in, a report out — so the verdict's rules can be read and
 * tested in one place. Something is lost or left open when:
 *   - a request failed while the app should have answered it (any time before a quick stop);
 *   - a request was cut by a kill, except in the quick stop, which does not wait for requests;
 *   - a hook did not end `ok` (an error, its timeout, killed, interrupted);
 *   - a worker exited (or was killed) with connections, listeners, children or threads still open;
 *   - a worker was killed at a deadline rather than exiting (outside the quick stop);
 *   - a reload failed, the arbiter exited other than 0, or the drill ran out of time.
 */
import type { ArbiterEvent, EventOf } from '../protocol/events';
import { leftOpen } from '../protocol/held-text';
import type { LoadResult } from './load';

/** Workers named in one left-open problem; the rest are counted. */
const MAX_WORKERS_NAMED = 5;

export type StopKind = 'graceful' | 'ctrl-c' | 'quick';

/** How each stop is given, and what it is called in the report. */
export const STOPS: Record<StopKind, { signal: NodeJS.Signals; label: string }> = {
  graceful: { signal: 'SIGTERM', label: 'graceful stop (SIGTERM)' },
  'ctrl-c': { signal: 'SIGINT', label: 'the first Ctrl+C (SIGINT)' },
  quick: { signal: 'SIGQUIT', label: 'quick stop (SIGQUIT)' },
};

export type DrillRun = {
  stop: StopKind;
  events: readonly ArbiterEvent[];
  load: LoadResult;
  exitCode: number | null;
  durationMs: number;
  /** The run did not end within the drill's time limit: what ran was killed. */
  timedOut: boolean;
};

export type HookSummary = {
  name: string;
  runs: number;
  outcomes: Record<string, number>;
  slowestMs: number;
};

export type DrillReport = {
  app: string;
  seed: number;
  durationMs: number;
  gracefulTimeoutMs: number;
  /** `keptAlive`: sent on a kept-alive connection; `retried`: sent again on a fresh one, as HTTP clients do. */
  requests: { sent: number; ok: number; failed: number; cut: number; keptAlive: number; retried: number };
  reloads: { asked: number; completed: number; failed: number; superseded: number };
  runs: {
    stop: StopKind;
    label: string;
    exitCode: number | null;
    durationMs: number;
    reloads: number;
    sent: number;
    /** Before the stop was given. */
    failed: number;
    /** Ended in an error once the stop was given (not a loss by itself: `cut` says what was). */
    endedByStop: number;
    cut: number;
  }[];
  hooks: HookSummary[];
  slowestHook: { name: string; ms: number; ofGracefulTimeout: number } | undefined;
  leftOpen: { worker: number; generation: number; at: string; what: string[] }[];
  /** Every way something was lost or left open, one line each; empty: the drill passed. */
  problems: string[];
};

const ofType = <T extends ArbiterEvent['type']>(events: readonly ArbiterEvent[], type: T): EventOf<T>[] =>
  events.filter((event): event is EventOf<T> => event.type === type);

export function drillReport(
  runs: readonly DrillRun[],
  facts: { seed: number; durationMs: number },
): DrillReport {
  const problems: string[] = [];
  const all = runs.flatMap((run) => run.events);
  const started = ofType(all, 'arbiter.started')[0];
  const gracefulTimeoutMs = (started?.config.gracefulTimeout ?? 30) * 1000;

  const runRows = runs.map((run) => {
    const { label } = STOPS[run.stop];
    // A request that ended in an error once the stop was given never reached a worker (it was
    // still being connected as the workers closed their listeners) or was cut: the workers' cut
    // count says which, so only the errors before the stop are the client's evidence.
    const failures = run.load.failed.filter((failure) => failure.during !== label);
    const endedByStop = run.load.failed.length - failures.length;
    const cut = ofType(run.events, 'worker.requests')
      .filter((event) => event.at === 'cut')
      .reduce((sum, event) => sum + event.total, 0);
    const swapCut = ofType(run.events, 'reload.swap').reduce((sum, swap) => sum + swap.cut, 0);
    for (const failure of failures.slice(0, 3))
      problems.push(`a request failed during ${failure.during}: ${failure.error}`);
    if (failures.length > 3) problems.push(`… and ${failures.length - 3} more failed requests`);
    // A quick stop does not wait for requests: what it cuts is its nature, not a loss.
    const lost = run.stop === 'quick' ? swapCut : cut;
    if (lost > 0) problems.push(`${lost} request(s) cut by a kill (the ${label} run)`);
    if (run.timedOut) problems.push(`the ${label} run did not end within the drill's time limit`);
    else if (run.exitCode !== 0) problems.push(`the arbiter exited with code ${run.exitCode} after ${label}`);
    for (const exited of ofType(run.events, 'worker.exited'))
      if ((exited.state === 'killed' || exited.state === 'timed-out') && run.stop !== 'quick')
        problems.push(`worker ${exited.id} (generation ${exited.generation}): ${exited.reason}`);
    return {
      stop: run.stop,
      label,
      exitCode: run.exitCode,
      durationMs: run.durationMs,
      reloads: ofType(run.events, 'reload').filter((e) => e.phase === 'triggered').length,
      sent: run.load.sent,
      failed: failures.length,
      endedByStop,
      cut,
    };
  });

  const reloadEnds = ofType(all, 'reload').filter((event) => event.phase !== 'triggered');
  const reloads = {
    asked: ofType(all, 'reload').filter((event) => event.phase === 'triggered').length,
    completed: reloadEnds.filter((event) => event.phase === 'completed').length,
    failed: reloadEnds.filter((event) => event.phase === 'failed').length,
    superseded: reloadEnds.filter((event) => event.phase === 'superseded').length,
  };
  for (const failed of reloadEnds.filter((event) => event.phase === 'failed'))
    problems.push(
      `the reload to generation ${failed.generation} failed: ${failed.error?.message ?? 'unknown error'}`,
    );

  const hooks = summarizeHooks(ofType(all, 'hook').filter((event) => event.phase === 'end'));
  for (const hook of hooks)
    for (const [outcome, count] of Object.entries(hook.outcomes))
      if (outcome !== 'ok') problems.push(`hook ${hook.name}: ${outcome} ${count} time(s) of ${hook.runs}`);
  const slowest = hooks.reduce<HookSummary | undefined>(
    (a, b) => (a && a.slowestMs >= b.slowestMs ? a : b),
    undefined,
  );

  const open = ofType(all, 'worker.resources')
    // At exit: what the app never closed; at a kill: what kept it from exiting (read from /proc).
    .filter((event) => event.at === 'exit' || event.at === 'kill')
    .map((event) => ({
      worker: event.id,
      generation: event.generation,
      at: event.at,
      what: leftOpen(event.held),
    }))
    .filter((entry) => entry.what.length > 0);
  problems.push(...foldLeftOpen(open));

  const sum = (pick: (row: (typeof runRows)[number]) => number) =>
    runRows.reduce((n, row) => n + pick(row), 0);
  return {
    app: started?.config.app ?? '?',
    seed: facts.seed,
    durationMs: facts.durationMs,
    gracefulTimeoutMs,
    requests: {
      sent: sum((row) => row.sent),
      ok: runs.reduce((n, run) => n + run.load.ok, 0),
      keptAlive: runs.reduce((n, run) => n + run.load.keptAlive, 0),
      retried: runs.reduce((n, run) => n + run.load.retried, 0),
      failed: sum((row) => row.failed),
      cut: sum((row) => row.cut),
    },
    reloads,
    runs: runRows,
    hooks,
    slowestHook: slowest && {
      name: slowest.name,
      ms: slowest.slowestMs,
      ofGracefulTimeout: slowest.slowestMs / gracefulTimeoutMs,
    },
    leftOpen: open,
    problems,
  };
}

/**
 * One problem per thing left open, with the workers that left it: a pool the app never closes
 * is left by every worker of every run, and is one problem, not one per worker.
 */
function foldLeftOpen(open: readonly DrillReport['leftOpen'][number][]): string[] {
  const byWhat = new Map<string, number[]>();
  for (const entry of open) {
    const key = `at ${entry.at}: ${entry.what.join(', ')}`;
    byWhat.set(key, [...(byWhat.get(key) ?? []), entry.worker]);
  }
  return [...byWhat].map(([what, workers]) => {
    const shown = workers.slice(0, MAX_WORKERS_NAMED).join(', ');
    const more = workers.length > MAX_WORKERS_NAMED ? ` and ${workers.length - MAX_WORKERS_NAMED} more` : '';
    return `${workers.length === 1 ? 'worker' : 'workers'} ${shown}${more} left open ${what}`;
  });
}

function summarizeHooks(ends: readonly EventOf<'hook'>[]): HookSummary[] {
  const byName = new Map<string, HookSummary>();
  for (const end of ends) {
    const hook = byName.get(end.name) ?? { name: end.name, runs: 0, outcomes: {}, slowestMs: 0 };
    hook.runs++;
    const outcome = end.outcome ?? 'ok';
    hook.outcomes[outcome] = (hook.outcomes[outcome] ?? 0) + 1;
    hook.slowestMs = Math.max(hook.slowestMs, end.durationMs ?? 0);
    byName.set(end.name, hook);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}
