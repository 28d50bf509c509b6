/**
 * `arbiter drill`: the shutdown check people do by hand, done for them. Three runs of the app,
 * each under bounded load on loopback with reloads at random (seeded) moments, each ended by
 * one kind of stop — graceful, the first Ctrl+C, quick — at a random moment too; then one
 * report of what was lost or left open (drill-report.ts), as Markdown and JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { EXIT } from '../protocol/exit-codes';
import { join } from 'node:path';
import type { ArbiterEvent } from '../protocol/events';
import { ArbiterChild } from './arbiter-child';
import type { DrillOptions } from './drill-args';
import { drillMarkdown } from './drill-markdown';
import { drillReport, STOPS, type DrillReport, type DrillRun, type StopKind } from './drill-report';
import { Load } from './load';

/** A seeded generator (mulberry32): the same seed gives the same moments. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export type DrillOutcome = { report: DrillReport | undefined; exitCode: number; bootFailure?: string };

export type DrillContext = {
  cli: string;
  cwd: string;
  arbiterArgs: readonly string[];
  options: DrillOptions;
  say: (line: string) => void;
};

export async function drill(context: DrillContext): Promise<DrillOutcome> {
  const { options, say } = context;
  const random = seeded(options.seed);
  const startedAt = performance.now();
  const deadline = Date.now() + options.timeLimitMs;
  const kinds: StopKind[] = ['graceful', 'ctrl-c', 'quick'];
  const runs: DrillRun[] = [];
  for (const [index, kind] of kinds.entries()) {
    // The reloads spread over the runs, the earlier ones taking any left over.
    const reloads =
      Math.floor(options.reloads / kinds.length) + (index < options.reloads % kinds.length ? 1 : 0);
    say(`drill: run ${index + 1} of ${kinds.length}: ${reloads} reload(s), then ${STOPS[kind].label}`);
    const run = await runOnce(context, kind, reloads, random, deadline);
    if ('bootFailure' in run)
      return { report: undefined, exitCode: run.exitCode, bootFailure: run.bootFailure };
    runs.push(run);
    if (run.timedOut) break;
  }
  const report = drillReport(runs, {
    seed: options.seed,
    durationMs: Math.round(performance.now() - startedAt),
  });
  mkdirSync(options.reportDir, { recursive: true });
  writeFileSync(join(options.reportDir, 'arbiter-drill.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(options.reportDir, 'arbiter-drill.md'), drillMarkdown(report));
  return { report, exitCode: report.problems.length === 0 ? EXIT.OK : EXIT.DRILL_FOUND };
}

async function runOnce(
  context: DrillContext,
  kind: StopKind,
  reloads: number,
  random: () => number,
  deadline: number,
): Promise<DrillRun | { bootFailure: string; exitCode: number }> {
  const began = performance.now();
  const arbiter = new ArbiterChild(context.cli, context.arbiterArgs, context.cwd);
  let timedOut = false;
  const timer = setTimeout(
    () => {
      timedOut = true;
      arbiter.killAll();
    },
    Math.max(0, deadline - Date.now()),
  );
  try {
    const started = await arbiter.next((event) => event.type === 'arbiter.started');
    const served = await arbiter.next(allReady(started));
    if (!started || !served || started.type !== 'arbiter.started') {
      const code = await arbiter.exited;
      return {
        bootFailure: timedOut ? 'the app did not boot within the time limit' : 'the app failed to boot',
        exitCode: code ?? 1,
      };
    }
    const listener = started.listeners[0];
    if (!listener || !('port' in listener)) throw new Error('the arbiter listens on no TCP port');
    const { port } = listener;
    let phase = 'serving';
    const load = new Load(port, context.options.path, context.options.concurrency, () => phase);
    for (let n = 1; n <= reloads && !timedOut; n++) {
      await pause(150 + random() * 600);
      phase = `reload ${n} of ${reloads} (${STOPS[kind].label} run)`;
      const from = arbiter.events.length;
      arbiter.signal('SIGHUP');
      await arbiter.next((event) => event.type === 'reload' && event.phase !== 'triggered', from);
      phase = 'serving';
    }
    await pause(100 + random() * 400);
    phase = STOPS[kind].label;
    arbiter.signal(STOPS[kind].signal);
    const result = await load.stop();
    const exitCode = await arbiter.exited;
    return {
      stop: kind,
      events: arbiter.events,
      load: result,
      exitCode,
      durationMs: Math.round(performance.now() - began),
      timedOut,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** The first generation is up: as many ready workers of generation 1 as it was started with. */
function allReady(started: ArbiterEvent | undefined): (event: ArbiterEvent) => boolean {
  const wanted = started?.type === 'arbiter.started' ? started.config.workers : 1;
  const ready = new Set<number>();
  return (event) => {
    if (event.type === 'worker.state' && event.generation === 1 && event.state === 'ready')
      ready.add(event.id);
    return ready.size >= wanted;
  };
}
