/**
 * What happens to one worker: its lifecycle moved on by what it says, what the arbiter asks
 * (stop, kill, pause) and which deadline ran out, each change reported once. How many workers
 * there are and of which generation is the arbiter's business; this part tells it when a
 * worker is ready and when one needs replacing, and never decides either.
 */
import type { ChildProcess } from 'node:child_process';
import type { Settings } from '../../config/settings';
import type { Logger } from '../../log/logger';
import {
  CONTROL_FD,
  FIRST_LISTEN_FD,
  type DependenciesMessage,
  type PreloadedMessage,
  type StopMode,
  type WorkerMessage,
} from '../../protocol/control';
import type { HeldResources, WorkerState } from '../../protocol/events';
import { emptyHeld, heldResourcesSoon } from '../../proc/held-resources';
import { whileInText } from '../../protocol/stacks-text';
import { LocalServices } from '../../proc/local-services';
import type { Reporter } from '../reporter';
import { describeExit } from './exit-reasons';
import { transition, type LifecycleInput } from './lifecycle';
import { StackCapture } from './stack-capture';
import { ABORT_GRACE_MS, STOP_ANSWER_MS, type Expiry } from './worker-deadlines';
import { WorkerProcess } from './worker-process';

export type WorkerControlOptions = {
  report: Reporter;
  log: Logger;
  /** The settings in force (a re-read config applies to what is armed next). */
  settings: () => Settings;
  /** A worker is ready (already reported). */
  onReady: (worker: WorkerProcess) => void;
  /** A worker finished its first response, at `at` (its clock, epoch ms). */
  onFirstResponse: (worker: WorkerProcess, at: number) => void;
  /** Some worker left the serving count (timed out, asked to retire, killed): the arbiter tops it up. */
  onShort: () => void;
  /** A worker said which third-party modules it loaded, or how its preload went (worker-spawner.ts). */
  onDependencies: (worker: WorkerProcess, message: DependenciesMessage | PreloadedMessage) => void;
  /** A worker's process ended (already reported); `before` is the state it was in. */
  onExit: (worker: WorkerProcess, exit: WorkerExit) => void;
};

export type WorkerExit = {
  before: WorkerState;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** How it ended, as a person reads it (exit-reasons.ts). */
  reason: string;
};

export class WorkerControl {
  /** Names the local servers the workers' connections go to (Redis on a port of its own). */
  private readonly services = new LocalServices();
  /** Reports of what workers held, waiting for their services to be named. */
  private readonly reporting = new Set<Promise<void>>();
  /** What stuck workers were doing, asked for before they are killed or aborted. */
  private readonly stacks = new StackCapture();

  constructor(private readonly options: WorkerControlOptions) {}

  /** Makes `child` worker `id` of `generation`, wired to this control. */
  adopt(id: number, generation: number, child: ChildProcess): WorkerProcess {
    const { report, log } = this.options;
    return new WorkerProcess({
      id,
      generation,
      child,
      onMessage: (worker, message) => this.message(worker, message),
      onInvalidMessage: (worker, error) =>
        report.say(worker, 'warn', `malformed control message skipped: ${error}`),
      onProtocolError: (worker, error) => this.kill(worker, `protocol error: ${error}`),
      onOutput: (worker, _stream, line) => log.appOutput(worker.id, worker.pid, line),
      onExit: (worker, code, signal) => this.exited(worker, code, signal),
      deadlineSettings: this.options.settings,
      onDeadline: (worker, expiry) => this.expired(worker, expiry),
      onChannelLost: (worker) => this.channelLost(worker),
    });
  }

  /**
   * Asks a worker to stop in `mode`: as a message, and as the stop's signal (SIGTERM, SIGINT)
   * if it does not answer; killed at its deadline. A graceful stop can be made quick, which
   * only ever brings the deadline closer.
   */
  stop(worker: WorkerProcess, mode: StopMode, reason: string): void {
    if (worker.exited) return;
    const escalating = worker.state === 'draining';
    if (!escalating && transition(worker.state, { kind: 'stop' }) !== 'draining') return; // failed or being killed
    const deadline = worker.deadlines.stopping(mode, reason);
    if (deadline === undefined) return;
    worker.send({ type: 'stop', mode, reason });
    this.options.report.stopSent(worker, mode, reason);
    if (escalating) this.options.report.deadlineMoved(worker, `quick stop: ${reason}`, deadline);
    else this.change(worker, { kind: 'stop' }, `${mode} stop: ${reason}`, deadline);
  }

  /** Kills a worker because someone asked (Kill Worker, a protocol error): shown as killed, and replaced. */
  kill(worker: WorkerProcess, reason: string): void {
    if (!transition(worker.state, { kind: 'kill' })) return; // already being killed or aborted
    worker.killRequest = reason;
    this.change(worker, { kind: 'kill' }, reason);
    this.options.onShort();
  }

  /** Kills a worker's whole process group now. */
  sigkill(worker: WorkerProcess, reason: string): void {
    if (worker.signalGroup('SIGKILL')) this.options.report.sent(worker, 'SIGKILL', 'os', reason);
  }

  /** Kills a worker now (the third Ctrl+C): shown as killed; one already being killed is only signalled again. */
  killNow(worker: WorkerProcess, reason: string): void {
    if (transition(worker.state, { kind: 'kill' })) this.kill(worker, reason);
    else this.sigkill(worker, reason);
  }

  /**
   * A debugger stopped the worker at a breakpoint (or let it go): its deadlines wait meanwhile.
   * The editor says when (it sees the debugger's stopped/continued events).
   */
  setPaused(worker: WorkerProcess, paused: boolean): void {
    if (worker.exited || worker.deadlines.paused === paused) return;
    if (paused) worker.deadlines.pause();
    this.options.report.paused(worker, paused, paused ? undefined : worker.deadlines.resume());
  }

  /** Asks a worker to reopen the app's log files (SIGUSR1's meaning, sent as a message). */
  reopenLogs(worker: WorkerProcess): void {
    worker.send({ type: 'reopen-logs' });
    this.options.report.sent(worker, 'SIGUSR1', 'message', 'reopen log files');
  }

  /** Applies a lifecycle input, reports it, and kills a worker that enters `killed`; whether it applied. */
  private change(worker: WorkerProcess, input: LifecycleInput, reason: string, deadline?: number): boolean {
    const next = transition(worker.state, input);
    if (!next || next === worker.state) return false;
    worker.state = next;
    this.options.report.state(worker, next, reason, deadline);
    if (next === 'killed') this.freezeReadKill(worker, reason);
    return true;
  }

  /**
   * Kills a worker that is to be killed, after reading what it held: it cannot say so itself any
   * more, and what it held is gone with it. SIGSTOP first, so that it does nothing more while its
   * /proc is read (off the loop: that read can take long on a busy machine), then SIGKILL.
   */
  private freezeReadKill(worker: WorkerProcess, reason: string): void {
    const { pid } = worker;
    if (!pid || !worker.signalGroup('SIGSTOP')) return this.sigkill(worker, reason);
    this.options.report.sent(worker, 'SIGSTOP', 'os', `${reason}: frozen while what it held is read`);
    this.reportCut(worker);
    const listenFds = this.options.settings().bind.map((_, index) => FIRST_LISTEN_FD + index);
    void heldResourcesSoon(pid, { ignoreFds: new Set([0, 1, 2, CONTROL_FD, ...listenFds]) })
      .catch((error: Error) => emptyHeld(error.message))
      .then((held) => {
        this.sigkill(worker, reason);
        this.reportHeld(worker, 'kill', held);
      });
  }

  /** The requests a kill cuts: those of the worker's last report, their ages brought up to now. */
  private reportCut(worker: WorkerProcess): void {
    const last = worker.lastRequests;
    if (!last || last.total === 0) return;
    const since = Date.now() - last.at;
    const requests = last.requests.map((request) => ({ ...request, ageMs: request.ageMs + since }));
    this.options.report.requests(worker, 'cut', requests, last.total);
  }

  /** Says what a worker held, once the local servers it talks to are named. */
  private reportHeld(worker: WorkerProcess, at: 'stop' | 'exit' | 'kill', held: HeldResources): void {
    const reported = this.services
      .name(held)
      .then((named) => this.options.report.resources(worker, at, named));
    this.reporting.add(reported);
    void reported.finally(() => this.reporting.delete(reported));
  }

  /** Resolves once every report still being prepared (what a worker held) has been made. */
  async reported(): Promise<void> {
    while (this.reporting.size > 0) await Promise.all(this.reporting);
  }

  /** One of a worker's deadlines ran out (worker-deadlines.ts). */
  private expired(worker: WorkerProcess, expiry: Expiry): void {
    const settings = this.options.settings();
    switch (expiry.kind) {
      case 'boot': {
        const reason = `not ready within ${settings.bootTimeout} s`;
        if (!this.change(worker, { kind: 'boot-timeout' }, reason)) return;
        const why = `worker ${worker.id} was not ready within ${settings.bootTimeout} s (did the app call listen() on PORT?)`;
        worker.failedToBoot({ message: why }, false);
        return this.sigkill(worker, reason);
      }
      case 'heartbeat':
        return this.whenRead(worker, 'heartbeat-timeout', (whileIn) => {
          const reason = `no heartbeat for ${settings.timeout} s`;
          if (!this.change(worker, { kind: 'heartbeat-timeout' }, `${reason}${whileIn}`)) return;
          if (worker.signal('SIGABRT')) this.options.report.sent(worker, 'SIGABRT', 'os', reason);
          worker.deadlines.aborted();
          this.options.onShort();
        });
      case 'stop-answer': {
        const signal = expiry.mode === 'graceful' ? 'SIGTERM' : 'SIGINT';
        const reason = `${expiry.mode} stop: ${expiry.reason} (no answer to the stop message within ${STOP_ANSWER_MS} ms)`;
        if (worker.signal(signal)) this.options.report.sent(worker, signal, 'os', reason);
        return;
      }
      case 'stop': {
        const seconds = expiry.mode === 'quick' ? settings.quickTimeout : settings.gracefulTimeout;
        return this.whenRead(worker, 'stop-timeout', (whileIn) => {
          const open = worker.lingering?.length ? `; still open: ${worker.lingering.join(', ')}` : '';
          const reason = `${expiry.mode} timeout (${seconds} s) ran out${open}${whileIn}`;
          this.change(worker, { kind: 'stop-timeout' }, reason);
        });
      }
      case 'abort':
        return this.sigkill(worker, `still alive ${ABORT_GRACE_MS} ms after SIGABRT`);
    }
  }

  /**
   * Reads what `worker` is doing (at most STACKS_WAIT_MS), reports it, then `proceed`s with the
   * kill or abort, its reason given " while in file:line `source` (thread name)". Before the
   * SIGSTOP and the SIGABRT: a frozen worker answers nothing, an aborted one is gone.
   */
  private whenRead(
    worker: WorkerProcess,
    at: 'stop-timeout' | 'heartbeat-timeout',
    proceed: (whileIn: string) => void,
  ): void {
    if (this.stacks.capturing(worker)) return; // a quick stop's deadline, come while the graceful one's is read
    void this.stacks.capture(worker).then(({ threads, unavailable }) => {
      if (worker.exited) return;
      this.options.report.stacks(worker, at, threads, unavailable, worker.lingering);
      const whileIn = whileInText(threads, unavailable);
      proceed(whileIn ? ` ${whileIn}` : '');
    });
  }

  private message(worker: WorkerProcess, message: WorkerMessage): void {
    const { report } = this.options;
    if (message.type !== 'stacks') this.stacks.heard(worker); // from its main thread: not stalled
    switch (message.type) {
      case 'stacks':
        return this.stacks.received(worker, message);
      case 'ready':
        if (worker.state !== 'booting') return;
        worker.readyAt = Date.now();
        worker.bootProfile = message.profile;
        worker.deadlines.ready();
        this.change(worker, { kind: 'ready' }, 'listening on the shared socket');
        return this.options.onReady(worker);
      case 'heartbeat':
        worker.deadlines.beat();
        if (worker.noteStats(message.served, message.inflight))
          report.stats(worker, message.served, message.inflight);
        return;
      case 'first-response':
        return this.options.onFirstResponse(worker, message.at);
      case 'boot-error':
      case 'fatal':
        return worker.failedToBoot(message.error, true);
      case 'hook':
        if (message.phase === 'start') worker.hookRuns.started(message.run, message.name);
        else worker.hookRuns.ended(message.run);
        return report.hook(worker, message);
      case 'stopping':
        return worker.deadlines.answered(message.mode);
      case 'closed':
        // Its counters at that moment, said as a stats event even when unchanged: a reload's
        // swap counts what it finished from here (generations/swap-tally.ts).
        worker.noteStats(message.served, message.inflight);
        report.stats(worker, message.served, message.inflight, true);
        return worker.markClosed();
      case 'retire':
        if (worker.retiring || worker.state !== 'ready') return;
        worker.retiring = message.reason;
        report.say(worker, 'info', `${message.reason}: replacing it`);
        return this.options.onShort();
      case 'lingering':
        worker.lingering = message.resources;
        return report.lingering(worker, message.resources);
      case 'resources':
        return this.reportHeld(worker, message.at, message.held);
      case 'requests':
        worker.lastRequests = { ...message, at: Date.now() };
        return report.requests(worker, 'draining', message.requests, message.total);
      case 'notice':
        return report.say(worker, message.level, message.message);
      case 'inspector':
        if (message.url) this.stacks.inspectorOpened(worker);
        return report.inspector(worker, message);
      case 'dependencies':
      case 'preloaded':
        return this.options.onDependencies(worker, message);
    }
  }

  /**
   * A worker whose control channel closed while it runs (the app closed fd 3) can no longer
   * beat, report or be asked to stop but by signals: it is replaced, and leaves once its
   * replacement is ready (its stop then travels as a signal).
   */
  private channelLost(worker: WorkerProcess): void {
    const reason = 'its control channel (fd 3) closed while it runs';
    this.options.report.say(worker, 'warn', `${reason} (did the app close fd 3?): replacing it`);
    worker.deadlines.silenced();
    if (worker.state === 'booting') return this.kill(worker, reason);
    if (worker.state !== 'ready' || worker.retiring) return;
    worker.retiring = reason;
    this.options.onShort();
  }

  /** The process ended: its state says how, hook runs it cut short get their end, and it is reported. */
  private exited(worker: WorkerProcess, code: number | null, signal: NodeJS.Signals | null): void {
    this.stacks.forget(worker);
    const before = worker.state;
    this.change(worker, { kind: 'exit', clean: code === 0 && !signal }, describeExit(before, code, signal));
    const { state } = worker;
    const cut =
      signal === 'SIGKILL' || state === 'killed' || state === 'timed-out' ? 'killed' : 'interrupted';
    for (const run of worker.hookRuns.cutShort())
      this.options.report.hookCutShort(worker, run.name, cut, Date.now() - run.startedAt);
    const reason = describeExit(state, code, signal, worker);
    this.options.report.exited(worker, { code, signal, state, reason });
    this.options.onExit(worker, { before, code, signal, reason });
  }
}
