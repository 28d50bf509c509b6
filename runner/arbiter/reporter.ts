/**
 * What the arbiter says, each fact once: to the event stream (for the editor and any tool
 * reading it) and to the log (for the person at the terminal) together, so the two never
 * drift apart and every worker event carries the same reference fields — id, pid, generation.
 * The arbiter decides; this only words it.
 */
import type { FirstResponse } from './generations/first-responses';
import type { Swap } from './generations/swap-tally';
import type { EventSink } from '../log/event-sink';
import type { Level, Logger } from '../log/logger';
import type { StopMode, WorkerMessage } from '../protocol/control';
import type { Settings } from '../config/settings';
import type {
  BootProfile,
  ErrorInfo,
  EventBody,
  HeldResources,
  HookOutcome,
  ThreadStack,
  InFlightRequest,
  Listener,
  WorkerState,
} from '../protocol/events';
import { describeBootProfile } from '../protocol/boot-profile-text';
import { leftOpen } from '../protocol/held-text';
import { frameText, innermostAppFrame } from '../protocol/stacks-text';
import { formatError } from '../log/format-error';

/** Which worker a fact is about: the fields every worker event starts with. */
export type WorkerRef = { readonly id: number; readonly pid: number; readonly generation: number };

export const refOf = ({ id, pid, generation }: WorkerRef): WorkerRef => ({ id, pid, generation });

type HookMessage = Extract<WorkerMessage, { type: 'hook' }>;
type Inspector = Extract<WorkerMessage, { type: 'inspector' }>;

export class Reporter {
  constructor(
    readonly log: Logger,
    readonly events: EventSink,
  ) {}

  started(facts: {
    listeners: Listener[];
    cgroup: string | undefined;
    settings: Settings;
    workers: number;
    python?: { version: string; executable: string; gunicornConfig?: string | undefined } | undefined;
  }): void {
    const { settings, python } = facts;
    this.events.emit({
      type: 'arbiter.started',
      pid: process.pid,
      listeners: facts.listeners,
      ...(facts.cgroup ? { cgroup: facts.cgroup } : {}),
      config: {
        app: settings.app,
        workers: facts.workers,
        gracefulTimeout: settings.gracefulTimeout,
        timeout: settings.timeout,
        bootTimeout: settings.bootTimeout,
        maxRequests: settings.maxRequests,
      },
    });
    const on = python
      ? ` on Python ${python.version} (${python.executable})${python.gunicornConfig ? ` with ${python.gunicornConfig}` : ''}`
      : '';
    this.log.info(`arbiter ${process.pid} starting ${facts.workers} worker(s) for ${settings.app}${on}`);
  }

  /** Something a worker did or that happened to it, for the log only (the event says it otherwise). */
  say(worker: WorkerRef, level: Level, message: string): void {
    this.log.worker(worker.id, worker.pid, level, message);
  }

  received(signal: NodeJS.Signals): void {
    this.events.emit({
      type: 'signal',
      direction: 'received',
      signal,
      pid: process.pid,
      reason: 'received by the arbiter',
    });
  }

  /** A signal sent to a worker: `message` — as a stop on its control channel; `os` — as a real signal. */
  sent(worker: WorkerRef, signal: NodeJS.Signals, via: 'message' | 'os', reason: string): void {
    this.events.emit({ ...refOf(worker), type: 'signal', direction: 'sent', signal, via, reason });
  }

  workerCount(count: number, reason: string, from?: number): void {
    if (from !== undefined) this.log.info(`${reason}: ${from} → ${count} worker(s)`);
    this.events.emit({ type: 'arbiter.workers', count, reason });
  }

  spawned(worker: WorkerRef): void {
    this.events.emit({ type: 'worker.spawned', ...refOf(worker) });
    this.state(worker, 'booting', `generation ${worker.generation}`);
  }

  /** A worker entered `state` (the lifecycle's transition); the states a person must see are logged. */
  state(worker: WorkerRef, state: WorkerState, reason: string, deadline?: number): void {
    this.events.emit({
      type: 'worker.state',
      ...refOf(worker),
      state,
      reason,
      ...(deadline !== undefined ? { deadline } : {}),
    });
    if (state === 'ready') this.say(worker, 'info', `ready (generation ${worker.generation})`);
    if (state === 'timed-out') this.say(worker, 'warn', `${reason}: aborting and replacing it`);
    if (state === 'killed') this.say(worker, 'warn', `killed: ${reason}`);
  }

  /** A draining worker's deadline moved: a quick stop brought it closer, or a pause pushed it out. */
  deadlineMoved(worker: WorkerRef, reason: string, deadline: number): void {
    this.events.emit({ type: 'worker.state', ...refOf(worker), state: 'draining', reason, deadline });
  }

  /** `closed`: the counters as the worker stopped accepting (a reload's swap counts from these). */
  stats(worker: WorkerRef, served: number, inflight: number, closed = false): void {
    this.events.emit({
      type: 'worker.stats',
      ...refOf(worker),
      served,
      inflight,
      ...(closed ? { closed } : {}),
    });
  }

  exited(
    worker: WorkerRef,
    exit: { code: number | null; signal: NodeJS.Signals | null; state: WorkerState; reason: string },
  ): void {
    this.events.emit({ type: 'worker.exited', ...refOf(worker), ...exit });
    this.say(worker, exit.state === 'exited' ? 'info' : 'warn', `${exit.state}: ${exit.reason}`);
  }

  hook(worker: WorkerRef, message: HookMessage): void {
    this.hookEvent(worker, message);
    if (message.phase !== 'end') return;
    const detail = message.error ? `: ${message.error}` : '';
    const level = message.outcome === 'ok' ? 'info' : 'warn';
    this.say(worker, level, `hook ${message.name}: ${message.outcome} in ${message.durationMs} ms${detail}`);
  }

  /** A hook run the worker's exit cut short: it never sent its end, so the arbiter does. */
  hookCutShort(worker: WorkerRef, name: string, outcome: 'killed' | 'interrupted', durationMs: number): void {
    this.hookEvent(worker, {
      name,
      phase: 'end',
      outcome,
      durationMs,
      error:
        outcome === 'killed' ? 'never finished: the worker was killed' : 'never finished: the worker exited',
    });
  }

  lingering(worker: WorkerRef, resources: string[]): void {
    this.say(worker, 'warn', `finished its shutdown but is kept alive by: ${resources.join(', ')}`);
    this.events.emit({ type: 'worker.lingering', ...refOf(worker), resources });
  }

  /** What a stuck worker was doing as a deadline ran out; the stuck thread's innermost frames are logged. */
  stacks(
    worker: WorkerRef,
    at: 'stop-timeout' | 'heartbeat-timeout',
    threads: ThreadStack[],
    unavailable: string | undefined,
    lingering: string[] | undefined,
  ): void {
    this.events.emit({
      type: 'worker.stacks',
      ...refOf(worker),
      at,
      threads,
      ...(unavailable !== undefined ? { unavailable } : {}),
      ...(lingering?.length ? { lingering } : {}),
    });
    const stuck = innermostAppFrame(threads);
    if (stuck)
      this.say(
        worker,
        'warn',
        `thread ${stuck.thread.name}: ${stuck.thread.frames.slice(0, 6).map(frameText).join(' ← ')}`,
      );
    else
      this.say(worker, 'warn', `what it was doing is not known: ${unavailable ?? 'no thread had a frame'}`);
  }

  /** What a worker held (`stop`, `exit`) or was found holding when it was killed; what was never closed is said. */
  resources(worker: WorkerRef, at: 'stop' | 'exit' | 'kill', held: HeldResources): void {
    this.events.emit({ type: 'worker.resources', ...refOf(worker), at, held });
    const left = at === 'stop' ? [] : leftOpen(held);
    if (left.length > 0)
      this.say(
        worker,
        'warn',
        `${at === 'kill' ? 'held when killed' : 'left open at exit'}: ${left.join(', ')}`,
      );
  }

  /** Which requests a draining worker waits on, or which its kill cut. */
  requests(worker: WorkerRef, at: 'draining' | 'cut', requests: InFlightRequest[], total: number): void {
    this.events.emit({ type: 'worker.requests', ...refOf(worker), at, requests, total });
    const listed = requests.map((request) => `${request.method} ${request.path} (${seconds(request.ageMs)})`);
    const more = total > requests.length ? ` and ${total - requests.length} more` : '';
    if (at === 'cut')
      this.say(worker, 'warn', `the kill cut ${total} request(s): ${listed.join(', ')}${more}`);
  }

  inspector(worker: WorkerRef, message: Inspector): void {
    if (message.error) {
      this.say(worker, 'warn', `cannot open its inspector: ${message.error}`);
      this.events.emit({ type: 'worker.inspector', ...refOf(worker), error: message.error });
    } else if (message.url && message.port) {
      this.say(worker, 'info', `inspector on ${message.url}`);
      this.events.emit({ type: 'worker.inspector', ...refOf(worker), url: message.url, port: message.port });
    }
  }

  paused(worker: WorkerRef, paused: boolean, movedDeadline?: number): void {
    if (movedDeadline !== undefined)
      this.deadlineMoved(
        worker,
        'resumed by the debugger: the stop deadline moved by the time it was paused',
        movedDeadline,
      );
    this.say(
      worker,
      'info',
      paused ? 'paused in the debugger: its deadlines wait' : 'resumed: its deadlines run again',
    );
    this.events.emit({ type: 'worker.paused', ...refOf(worker), paused });
  }

  stopSent(worker: WorkerRef, mode: StopMode, reason: string): void {
    this.sent(worker, mode === 'graceful' ? 'SIGTERM' : 'SIGINT', 'message', `${mode} stop: ${reason}`);
  }

  reloadTriggered(generation: number, trigger: string, files?: string[]): void {
    this.events.emit({
      type: 'reload',
      phase: 'triggered',
      generation,
      trigger,
      ...(files ? { files } : {}),
    });
  }

  reloadCompleted(
    cycle: {
      generation: number;
      trigger: string;
      durationMs: number;
      env?: string[] | undefined;
      ready: number;
      workers: number;
      profile?: BootProfile | undefined;
    },
    previous: number,
  ): void {
    const { env, profile, ...rest } = cycle;
    this.events.emit({
      type: 'reload',
      phase: 'completed',
      ...rest,
      ...(env ? { env } : {}),
      ...(profile ? { profile } : {}),
    });
    const changedEnv = env ? `; env: ${env.join(', ')} changed` : '';
    const joining =
      cycle.ready < cycle.workers ? ` (${cycle.ready} of ${cycle.workers} ready, the rest joining)` : '';
    const live = profile ? `; ${describeBootProfile(profile)}` : '';
    this.log.info(
      `reloaded: generation ${cycle.generation} serves${joining} (was ${previous}), ${cycle.durationMs} ms${changedEnv}${live}`,
    );
  }

  reloadFailed(
    cycle: { generation: number; trigger: string; durationMs: number; env?: string[] | undefined },
    error: ErrorInfo,
    serving: number,
  ): void {
    const { env, ...rest } = cycle;
    this.events.emit({ type: 'reload', phase: 'failed', ...rest, error, ...(env ? { env } : {}) });
    this.log.error(`reload failed, generation ${serving} keeps serving: ${formatError(error)}`);
  }

  /** A reload's new code answered for the first time (generations/first-responses.ts). */
  firstResponse(first: FirstResponse): void {
    this.events.emit({ type: 'reload.first-response', ...first });
    this.log.info(
      `generation ${first.generation} answered first ${Math.round(first.ms)} ms after the change (worker ${first.worker}, ${Math.round(first.afterLiveMs)} ms after it went live)`,
    );
  }

  /** A reload's swap is over: the last old worker exited (generations/swap-tally.ts). */
  swapped(swap: Swap): void {
    this.events.emit({ type: 'reload.swap', ...swap });
    const cut = swap.cut === 0 ? 'none cut' : `${swap.cut} cut by a kill`;
    this.log.info(
      `generation ${swap.generation} took over in ${swap.durationMs} ms: the old workers served ${swap.oldServed} request(s) meanwhile, the new ${swap.newServed}; ${cut}`,
    );
  }

  /** A cycle whose generation was stopped before it went live: a newer change boots instead. */
  reloadSuperseded(cycle: {
    generation: number;
    trigger: string;
    durationMs: number;
    env?: string[] | undefined;
  }): void {
    const { env, ...rest } = cycle;
    this.events.emit({ type: 'reload', phase: 'superseded', ...rest, ...(env ? { env } : {}) });
    this.log.info(`generation ${cycle.generation} superseded by a newer change before it served`);
  }

  standbyStarted(pid: number): void {
    this.events.emit({ type: 'standby', pid, phase: 'started' });
  }

  standbyPreloaded(pid: number, modules: number, ms: number): void {
    this.events.emit({ type: 'standby', pid, phase: 'preloaded', modules, ms });
  }

  standbyEnded(pid: number, died: string | undefined, reason = 'not needed'): void {
    this.events.emit({ type: 'standby', pid, phase: 'ended', reason: died ?? reason });
    if (died) this.log.warn(`a standby worker (pid ${pid}) ${died} before it was needed`);
  }

  /** Where a worker's third-party modules come from: preloaded (warm) or loaded by the app (cold, and why). */
  deps(
    worker: WorkerRef,
    deps: { warm: true; modules: number; ms: number } | { warm: false; reason: string },
  ): void {
    this.events.emit(
      deps.warm
        ? { type: 'worker.deps', ...refOf(worker), warm: true, modules: deps.modules, ms: deps.ms }
        : { type: 'worker.deps', ...refOf(worker), warm: false, modules: 0, reason: deps.reason },
    );
  }

  /** The preloaded modules changed on disk: said once, as the cycle that found it starts cold. */
  dependenciesChanged(reason: string): void {
    this.log.info(
      `dependencies: ${reason}; this generation loads them cold, and standbys preload what it loads`,
    );
  }

  /** Modules threw in a standby's preload: it is replaced, and they are preloaded no more. */
  preloadFailed(pid: number, failed: readonly { module: string; error: string }[]): void {
    const first = failed[0]!;
    const more = failed.length > 1 ? ` (and ${failed.length - 1} more)` : '';
    this.log.warn(
      `a standby worker (pid ${pid}) failed to preload ${first.module}${more}: ${first.error}; replacing it, and preloading without ${failed.length > 1 ? 'them' : 'it'}`,
    );
  }

  /** The watcher's first walk is done. */
  watching(facts: {
    root: string;
    files: number;
    folders: number;
    polled: number;
    durationMs: number;
  }): void {
    this.events.emit({ type: 'watcher.ready', ...facts });
    const alsoPolled = facts.polled > 0 ? ` and ${facts.polled} polled` : '';
    this.log.info(
      `watching ${facts.files} files in ${facts.folders} folders${alsoPolled} (${facts.durationMs} ms)`,
    );
  }

  /** Changes to `file` start no cycle, for `reason`; `line` says so to the person. */
  ignored(file: string, reason: string, level: Level, line: string): void {
    this.events.emit({ type: 'watcher.ignored', file, reason });
    this.log[level](line);
  }

  exitedArbiter(code: number, reason: string): void {
    this.events.emit({ type: 'arbiter.exited', code, reason });
    this.log.info(`exiting (${reason})`);
  }

  private hookEvent(
    worker: WorkerRef,
    run: Pick<HookMessage, 'name' | 'phase'> & {
      outcome?: HookOutcome | undefined;
      durationMs?: number | undefined;
      error?: string | undefined;
    },
  ): void {
    const event: EventBody = {
      type: 'hook',
      scope: 'worker',
      ...refOf(worker),
      name: run.name,
      phase: run.phase,
      ...(run.outcome ? { outcome: run.outcome } : {}),
      ...(run.durationMs !== undefined ? { durationMs: run.durationMs } : {}),
      ...(run.error ? { error: run.error } : {}),
    };
    this.events.emit(event);
  }
}

/** 12400 → "12.4 s" */
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
