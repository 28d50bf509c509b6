/**
 * The arbiter's parts, made and wired to one another in one place, so that arbiter.ts reads as
 * the runbook. Each part owns its own state (see each file); what a part needs of the arbiter —
 * its phase, the serving generation, its verbs — it asks through `ArbiterSide`, never by
 * holding the arbiter itself.
 */
import type { ArbiterInfo } from '../config/hooks';
import type { WatcherHandle } from '../watch/watcher-handle';
import type { ArbiterOptions } from './arbiter-options';
import { GenerationBuilds } from './generations/generation-builds';
import { CLOSE_CONFIRM_MS, Handover } from './generations/handover';
import { LiveConfig } from './generations/live-config';
import { SwapTally } from './generations/swap-tally';
import { HookRunner } from './hooks/hook-runner';
import { watchFileChanges } from './intake/file-changes';
import type { ReloadRequest } from './intake/reload-requests';
import { WorkerCommands } from './intake/worker-commands';
import { replacesWorkers, type ArbiterPhase } from './phase';
import { Reporter } from './reporter';
import { listenerName, type BoundSocket } from './sockets';
import { Staffing } from './workers/staffing';
import { WorkerControl, type WorkerExit } from './workers/worker-control';
import type { WorkerProcess } from './workers/worker-process';
import { WorkerSet } from './workers/worker-set';
import { WorkerSpawner } from './workers/worker-spawner';

/** What the parts ask of the arbiter: its state, and the verbs they hand a worker back to. */
export type ArbiterSide = {
  phase(): ArbiterPhase;
  /** The generation that serves. */
  serving(): number;
  /** Made once the sockets are bound: undefined before. */
  spawner(): WorkerSpawner | undefined;
  /** Starts a worker of `generation`; false when no process could be started. */
  spawn(generation: number): boolean;
  /** A worker said it is ready. */
  ready(worker: WorkerProcess): void;
  /** A worker finished its first response, at `at`. */
  answered(worker: WorkerProcess, at: number): void;
  /** A worker process ended. */
  reap(worker: WorkerProcess, exit: WorkerExit): void;
};

export type ArbiterParts = {
  /** Says each fact once, to the log and the event stream. */
  report: Reporter;
  hooks: HookRunner;
  /** The settings, hooks and environment in force: re-read on a cycle. */
  config: LiveConfig;
  workers: WorkerSet<WorkerProcess>;
  /** What happens to one worker: its messages, deadlines, stop and kill. */
  control: WorkerControl;
  /** How many workers the serving generation should have, and keeping it so. */
  staffing: Staffing<WorkerProcess>;
  /** A cycle's swap: the new generation accepts only once the old one accepts no more. */
  handover: Handover<WorkerProcess>;
  /** What the editor's commands and the all-worker signals do to workers. */
  commands: WorkerCommands;
  /** Each generation's build (TypeScript) and the syntax check of what a cycle changed. */
  builds: GenerationBuilds;
};

export function makeArbiterParts(options: ArbiterOptions, side: ArbiterSide): ArbiterParts {
  const { settings, log } = options;
  const report = new Reporter(log, options.events);
  const config = new LiveConfig(settings, options.cwd, options.reloadConfig);
  // Told after the event that ended the swap, so that every subscriber sees that one first.
  const swaps = new SwapTally((swap) => queueMicrotask(() => report.swapped(swap)));
  options.events.subscribe((event) => swaps.observe(event));
  const workers = new WorkerSet<WorkerProcess>();
  const control: WorkerControl = new WorkerControl({
    report,
    log,
    settings: () => config.settings,
    onReady: (worker) => side.ready(worker),
    onFirstResponse: (worker, at) => side.answered(worker, at),
    onShort: () => staffing.manage(),
    onExit: (worker, exit) => side.reap(worker, exit),
    onDependencies: (worker, message) => side.spawner()?.workerSaid(worker, message),
  });
  const staffing: Staffing<WorkerProcess> = new Staffing(settings.workers, {
    log,
    replacing: () => replacesWorkers(side.phase()),
    current: () => workers.live().filter((worker) => worker.generation === side.serving()),
    spawn: () => side.spawn(side.serving()),
    retire: (worker, reason) => control.stop(worker, 'graceful', reason),
  });
  const handover = new Handover<WorkerProcess>({
    closeConfirmMs: CLOSE_CONFIRM_MS,
    stop: (worker, reason) => control.stop(worker, 'graceful', reason),
    kill: (worker, reason) => control.kill(worker, reason),
    cue: (worker) => worker.send({ type: 'accept' }),
  });
  return {
    report,
    hooks: new HookRunner(options.hooks, options.events, log),
    config,
    workers,
    control,
    staffing,
    handover,
    commands: new WorkerCommands({ workers, control, staffing, report, log, inspectAll: settings.inspect }),
    builds: new GenerationBuilds(settings.app, options.cwd, options.python !== undefined),
  };
}

/** The worker spawner, made once the sockets are bound: the workers inherit them. */
export function makeSpawner(
  options: ArbiterOptions,
  parts: Pick<ArbiterParts, 'builds' | 'report' | 'config'>,
  sockets: BoundSocket[],
): WorkerSpawner {
  const { builds, report, config } = parts;
  return new WorkerSpawner({
    ...options,
    builds,
    sockets,
    report,
    settings: () => config.settings,
    env: () => config.env.vars,
  });
}

/** Watches the project (--reload): a change asks for a reload, unless the arbiter is stopping. */
export function watchProject(
  options: ArbiterOptions,
  parts: Pick<ArbiterParts, 'report' | 'config'>,
  arbiter: { stopping(): boolean; reload(request: ReloadRequest): void },
): WatcherHandle {
  return watchFileChanges({
    root: options.cwd,
    settings: parts.config.settings,
    configFile: options.configFile,
    envFiles: parts.config.env.files,
    report: parts.report,
    ...arbiter,
  });
}

/** What the arbiter's own hooks are told about it. */
export function arbiterInfo(
  config: LiveConfig,
  staffing: Staffing<WorkerProcess>,
  sockets: BoundSocket[],
): ArbiterInfo {
  return {
    pid: process.pid,
    app: config.settings.app,
    workers: staffing.target,
    listeners: sockets.map((socket) => listenerName(socket.listener)),
  };
}
