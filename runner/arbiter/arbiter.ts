/**
 * The arbiter: owns the listening sockets, keeps the right number of workers of the serving
 * generation alive, cycles generations without dropping a connection, and stops them the way
 * it is told. Read it as a runbook: each signal handler says in one line what the signal
 * means, and calls the verbs — `reload`, `bootGeneration`, `spawnWorker`, `staffing.manage`,
 * `reap`, `stop`, `killAll`, `halt`. The mechanics live beside it: the phase (phase.ts), what
 * happens to one worker — its messages, deadlines, stop and kill — (workers/worker-control.ts),
 * how processes are made and contained (workers/worker-spawner.ts, containment/), the booting
 * generation, its build and the live config (generations/), signals, commands and saves
 * (intake/), and the one reporter that says each fact (reporter.ts). docs/architecture.md
 * follows a save through all of them.
 *
 * Nothing polls. Everything reacts to a process exit, a control message, a signal or a deadline.
 */
import type { ChildProcess } from 'node:child_process';
import { parseBindAddress } from '../config/bind-address';
import type { ArbiterInfo, WorkerExitInfo } from '../config/hooks';
import { formatError } from '../log/format-error';
import type { Logger } from '../log/logger';
import type { ArbiterCommand } from '../protocol/commands';
import type { StopMode } from '../protocol/control';
import { EXIT } from '../protocol/exit-codes';
import type { WatcherHandle } from '../watch/watcher-handle';
import type { ArbiterOptions } from './arbiter-options';
import { arbiterInfo, makeArbiterParts, makeSpawner, watchProject, type ArbiterParts } from './arbiter-parts';
import { BootingGeneration, SUPERSEDED, type BootResult } from './generations/booting-generation';
import { firstReady, generationProfile } from './generations/boot-profile';
import { FirstResponses } from './generations/first-responses';
import type { GenerationBuilds } from './generations/generation-builds';
import type { Handover } from './generations/handover';
import { runAlone } from './generations/coexistence';
import type { LiveConfig } from './generations/live-config';
import type { HookRunner } from './hooks/hook-runner';
import { runCommand } from './intake/commands';
import type { WorkerCommands } from './intake/worker-commands';
import { PendingReload, type ReloadRequest } from './intake/reload-requests';
import { interruptStep, listenForSignals, winchMeansResize, type ArbiterSignal } from './intake/signals';
import { isStopping, nextPhase, startsStandbys, type ArbiterPhase, type PhaseInput } from './phase';
import { refOf, type Reporter } from './reporter';
import { bindAll, listenerName, urlOf, type BoundSocket } from './sockets';
import { LIVE_STATES } from './workers/lifecycle';
import type { Staffing } from './workers/staffing';
import type { WorkerControl, WorkerExit } from './workers/worker-control';
import type { WorkerProcess } from './workers/worker-process';
import type { WorkerSet } from './workers/worker-set';
import type { WorkerSpawner } from './workers/worker-spawner';

/** How long a stop waits for arbiter hooks still running (an onReload the stop cut short) before onExit. */
const STOP_HOOK_WAIT_MS = 5_000;

export class Arbiter {
  private readonly log: Logger;
  /** Made and wired in arbiter-parts.ts; each is also a field below, by its name. */
  private readonly parts: ArbiterParts;
  private readonly report: Reporter;
  private readonly hooks: HookRunner;
  private readonly config: LiveConfig;
  private readonly workers: WorkerSet<WorkerProcess>;
  private readonly control: WorkerControl;
  private readonly staffing: Staffing<WorkerProcess>;
  private readonly handover: Handover<WorkerProcess>;
  private readonly commands: WorkerCommands;
  private readonly builds: GenerationBuilds;
  private readonly pending = new PendingReload();
  /** When each reload's new code first answered (generations/first-responses.ts). */
  private readonly firstResponses: FirstResponses;
  private phase: ArbiterPhase = { kind: 'starting' };
  /** The generation that serves, and the newest one built (booting, or failed and kept for a retry). */
  private serving = 0;
  private newest = 0;
  /** The newest generation's boot: settled once it went live (its later workers still report to it) or failed. */
  private booting: BootingGeneration<WorkerProcess> | undefined;
  private sockets: BoundSocket[] = [];
  /** Made once the sockets are bound (run). */
  private spawner: WorkerSpawner | undefined;
  private watcher: WatcherHandle | undefined;
  private interrupts = 0;
  private stopListening = (): void => undefined;
  private resolveDone!: (code: number) => void;
  private readonly done = new Promise<number>((resolve) => (this.resolveDone = resolve));
  /**
   * Nothing else holds Node's loop open while no worker runs (after WINCH, between boot
   * failures): signal handles are unref'd and the sockets are bound but not watched. The
   * arbiter lives until it decides to exit, so it holds the loop itself.
   */
  private readonly keepAlive = setInterval(() => undefined, 2 ** 30);

  constructor(private readonly options: ArbiterOptions) {
    this.log = options.log;
    const parts = (this.parts = makeArbiterParts(options, {
      phase: () => this.phase,
      serving: () => this.serving,
      spawner: () => this.spawner,
      spawn: (generation) => this.spawnWorker(generation) !== undefined,
      ready: (worker) => this.ready(worker),
      answered: (worker, at) => this.firstResponses.answered(worker.generation, worker.id, at),
      reap: (worker, exit) => this.reap(worker, exit),
    }));
    ({ report: this.report, hooks: this.hooks, config: this.config, workers: this.workers } = parts);
    ({ control: this.control, staffing: this.staffing, handover: this.handover } = parts);
    ({ commands: this.commands, builds: this.builds } = parts);
    this.firstResponses = new FirstResponses((first) => this.report.firstResponse(first));
  }

  /** Binds, boots the first generation and serves until stopped; resolves to the exit code. */
  async run(): Promise<number> {
    const { settings } = this.config;
    await this.hooks.run('onStarting', this.info);
    this.sockets = await bindAll(settings.bind.map(parseBindAddress));
    this.spawner = makeSpawner(this.options, this.parts, this.sockets);
    this.stopListening = listenForSignals(this.onSignal, (signal) => this.report.received(signal));
    const listeners = this.sockets.map((socket) => socket.listener);
    const python = this.options.python;
    this.report.started({
      listeners,
      cgroup: this.spawner.containment.cgroup,
      settings,
      workers: this.staffing.target,
      python: python && { ...python.interpreter, gunicornConfig: python.gunicornConfig },
    });
    // Watching starts with the boot, so the initial scan of a big tree overlaps it.
    if (settings.reload)
      this.watcher = watchProject(this.options, this.parts, {
        stopping: () => isStopping(this.phase),
        reload: (request) => this.reload(request),
      });
    const result = await this.bootGeneration();
    if (this.phase.kind !== 'starting') return this.done; // stopped while booting
    if (!result.ok) {
      this.log.error(`the app failed to boot: ${formatError(result.error)}`);
      const loadError = result.error.file || result.error.stack || result.reported;
      await this.halt(loadError ? EXIT.APP_LOAD_ERROR : EXIT.BOOT_ERROR, 'boot failed');
      return this.done;
    }
    this.apply({ kind: 'served' });
    this.serving = this.newest;
    this.reloadPending(); // changes saved while the first generation booted
    const urls = listeners.map((listener) => urlOf(listener) ?? listenerName(listener));
    this.log.info(`serving ${urls.join(' and ')} with ${this.staffing.target} worker(s)`);
    await this.hooks.run('whenReady', this.info);
    return this.done;
  }

  // ---- signals: what each one means --------------------------------------------------------

  private readonly onSignal: Record<ArbiterSignal, () => void> = {
    /** Reload: re-read the config, boot a new generation, retire the old one once it is ready. */
    SIGHUP: () => this.say('SIGHUP: reloading', () => this.reload({ trigger: 'SIGHUP', rereadConfig: true })),
    /** Graceful stop: workers drain, run their shutdown hooks, are killed at the graceful timeout. */
    SIGTERM: () => this.say('SIGTERM: graceful stop', () => this.stop('graceful', 'SIGTERM')),
    /** Ctrl+C: first a graceful stop, then a quick stop, then kill every worker now. */
    SIGINT: () => this.interrupt(),
    /** Quick stop: workers get the quick timeout for their hooks, then are killed. */
    SIGQUIT: () => this.say('SIGQUIT: quick stop', () => this.stop('quick', 'SIGQUIT')),
    /** One worker more. */
    SIGTTIN: () => this.setWorkerCount(this.staffing.target + 1, 'SIGTTIN'),
    /** One worker fewer, never below one. */
    SIGTTOU: () =>
      this.staffing.target <= 1
        ? this.log.info('SIGTTOU: already at one worker, which is the least there can be')
        : this.setWorkerCount(this.staffing.target - 1, 'SIGTTOU'),
    /** Reopen log files: the events file here, and the app's own through its workers. */
    SIGUSR1: () => this.say('SIGUSR1: reopening log files', () => this.commands.reopenLogs()),
    /** Stop every worker but keep the sockets; TTIN or HUP brings workers back. */
    SIGWINCH: () => this.stopAllWorkers(),
  };

  private say(line: string, then: () => void): void {
    this.log.info(line);
    then();
  }

  private interrupt(): void {
    const step = interruptStep(++this.interrupts);
    this.log[step.level](step.says);
    if (step.stop === 'kill') this.killAll(step.reason);
    else this.stop(step.stop, step.reason);
  }

  private stopAllWorkers(): void {
    if (winchMeansResize())
      return this.log.info(
        'SIGWINCH ignored: the arbiter runs in a terminal, where it means a window resize',
      );
    this.commands.stopAll();
    this.fillStandby(); // none are wanted now
  }

  /** A command from the tool that drives the arbiter (--stdin-commands, intake/commands.ts). */
  command(command: ArbiterCommand): void {
    runCommand(command, this.commands);
  }

  private setWorkerCount(count: number, reason: string): void {
    const from = this.staffing.target;
    this.staffing.set(count);
    this.report.workerCount(count, reason, from);
    void this.hooks.run('workersChanged', this.info, { from, to: count });
    this.staffing.manage();
    if (count < from) this.fillStandby(); // more are topped up once the new worker is ready
  }

  // ---- reload: one cycle at a time, the next folded from what was asked meanwhile ----------

  private reload(request: ReloadRequest): void {
    if (isStopping(this.phase)) return;
    if (this.apply({ kind: 'cycle' })) return void this.cycle(request);
    this.pending.add(request); // starting, or a cycle runs
    if (this.supersedes()) this.booting?.supersede(); // false once live: the rest joins, this cycles after
  }

  /** Whether what waits replaces the generation booting beside the serving one (intake/reload-requests.ts). */
  private supersedes(): boolean {
    return this.phase.kind === 'serving' && this.phase.cycle === 'beside' && this.pending.supersedes;
  }

  /**
   * A graceful cycle: the new generation boots beside the old and goes live at its first ready
   * worker, through the handover (generations/handover.ts); the rest of it joins as it boots.
   */
  private async cycle(request: ReloadRequest): Promise<void> {
    const startedAt = performance.now();
    const cycleStartedAt = Date.now();
    const generation = this.newest + 1;
    const { trigger, files } = request;
    this.report.reloadTriggered(generation, trigger, files);
    const reread = await this.config.reread(request);
    let result: BootResult = reread;
    const replaced = reread.ok && this.config.settings.reloadMode === 'replace';
    if (reread.ok) {
      if (reread.bindChanged)
        this.log.warn('the bind addresses changed; restart the arbiter to listen on the new ones');
      if (reread.workers !== undefined) this.staffing.set(reread.workers);
      if (reread.hooks) this.hooks.replace(reread.hooks);
      await this.hooks.run('onReload', this.info, { generation, trigger });
      if (this.staffing.target === 0) this.staffing.set(this.config.settings.workers); // after WINCH
      if (replaced && this.apply({ kind: 'replace' }))
        await this.handover.retireFirst(generation, this.workers.live());
      result = await this.bootGeneration(files, !replaced);
    }
    const previous = this.serving;
    if (result.ok && !isStopping(this.phase)) {
      // Still cycling while the old generation hands over: a reload asked meanwhile waits for it.
      this.serving = generation;
      this.staffing.succeeded();
      const old = this.workers.live().filter((worker) => worker.generation < generation);
      const reason = `reload (generation ${generation} is ready)`;
      await this.handover.swap(generation, old, () => this.workers.ofGeneration(generation), reason);
    }
    const facts = { generation, trigger, env: reread.ok ? reread.env : undefined };
    const cycled = this.apply({ kind: 'cycled' });
    if (!cycled || !result.ok) this.handover.release(generation);
    if (!cycled) return; // stopped meanwhile
    const superseded = !result.ok && result.superseded === true;
    this.pending.ended(superseded);
    const durationMs = Math.round(performance.now() - startedAt);
    if (superseded) {
      this.report.reloadSuperseded({ ...facts, durationMs });
    } else if (result.ok) {
      const ready = this.workers.serving(generation).filter((worker) => worker.state === 'ready').length;
      const cycle = { generation, request, startedAt: cycleStartedAt };
      const profile = generationProfile(cycle, this.workers.all(), this.builds, this.spawner!);
      const live = { ready, workers: this.staffing.target, profile };
      this.report.reloadCompleted({ ...facts, durationMs, ...live }, previous);
      const liveAt = firstReady(this.workers.all(), generation)?.readyAt ?? Date.now();
      this.firstResponses.live({ generation, from: request.batch?.openedAt ?? cycleStartedAt, liveAt });
    } else {
      if (result.anotherCopy && !replaced) {
        // The new generation could not boot beside the old one: the same cycle again, one at a time.
        this.runAlone(result.anotherCopy);
        this.pending.retry(request);
      }
      if (replaced) {
        // Nothing of the old generation is left to serve: keep trying the new one, with backoff,
        // until it boots or the next change fixes it. Connections wait in the backlog.
        this.serving = generation;
        this.staffing.failed();
        this.staffing.manage();
      }
      this.report.reloadFailed({ ...facts, durationMs }, result.error, this.serving);
    }
    this.pruneBuilds();
    this.reloadPending();
  }

  private reloadPending(): void {
    const pending = this.pending.take();
    if (pending) this.reload(pending);
    else this.fillStandby();
  }

  /** The app cannot run twice at once: one worker, replace mode, from now on (coexistence.ts). */
  private runAlone(said: string): void {
    runAlone(said, { config: this.config, staffing: this.staffing, report: this.report, log: this.log });
  }

  /**
   * Builds and starts a new generation of `target` workers; settles once one is ready or one
   * failed first. `changed`: the files this cycle changed, whose syntax is checked before any worker
   * serves them (a TypeScript project's here; Python's by the new workers, before the app loads).
   * `beside`: an old generation still accepts, so the new one accepts on cue (the handover).
   */
  private async bootGeneration(changed?: string[], beside = false): Promise<BootResult> {
    const stopped: BootResult = { ok: false, error: { message: 'stopped' } };
    // A stop that came while the cycle awaited its config or hooks: nothing new may start.
    if (isStopping(this.phase)) return stopped;
    const generation = ++this.newest;
    const [prepared] = await Promise.all([
      this.builds.prepare(generation, changed),
      this.spawner!.checkDependencies(generation),
    ]);
    if (!prepared.ok) return prepared;
    if (isStopping(this.phase)) return stopped;
    // A save that came while this one built: boot that instead, at once.
    if (beside && this.supersedes()) return { ok: false, error: { message: SUPERSEDED }, superseded: true };
    const booting = new BootingGeneration<WorkerProcess>(generation, {
      wanted: this.staffing.target,
      liveAt: this.phase.kind === 'starting' ? 'all' : 'first',
      onFailed: (live, { superseded }) => {
        // Superseded, a worker is killed as asked (shown so); failed, its boot failed already.
        if (superseded) for (const worker of live) this.control.kill(worker, SUPERSEDED);
        else for (const worker of live) this.control.sigkill(worker, 'its generation failed to boot');
      },
      onAnotherCopy: (said) => this.runAlone(said),
    });
    this.booting = booting;
    if (beside) this.handover.hold(generation);
    for (let i = 0; i < this.staffing.target; i++) {
      const worker = this.spawnWorker(generation, prepared.check);
      if (!worker) break; // the boot fails once the spawn's error is known; the rest would too
      booting.add(worker);
    }
    return booting.result;
  }

  /** Deletes the TypeScript builds nothing will load again: not serving, running a worker, nor the newest. */
  private pruneBuilds(): void {
    this.builds.prune(new Set([this.serving, this.newest, ...this.workers.generations()]));
  }

  // ---- workers: spawn, manage, stop, kill ----------------------------------------------------

  /** Starts a worker of `generation`; undefined when no process could be started (reported once known). */
  private spawnWorker(generation: number, check?: string[]): WorkerProcess | undefined {
    const id = this.workers.nextId();
    void this.hooks.run('preFork', this.info, { id, generation });
    const { child, deps } = this.spawner!.take();
    if (!child.pid) {
      this.spawnFailed(generation, child);
      return undefined;
    }
    const worker = this.control.adopt(id, generation, child);
    this.workers.add(worker);
    const cue = this.handover.holds(generation) ? { acceptOnCue: true } : {};
    worker.send({ ...this.spawner!.bootMessage(id, generation, check), ...cue });
    this.commands.spawned(worker);
    this.report.spawned(worker);
    if (deps !== 'pending') this.report.deps(worker, deps);
    void this.hooks.run('postFork', this.info, refOf(worker));
    return worker;
  }

  /**
   * No process could be started (the project folder gone for a moment, no file descriptors or
   * processes left): a boot failure like any other. The generation booting fails and the old
   * one keeps serving; a replacement is tried again with backoff. Node says why on the child's
   * 'error', in the same turn of the loop as the spawn.
   */
  private spawnFailed(generation: number, child: ChildProcess): void {
    this.spawner!.whyFailed(child, (message) => {
      const booting = this.booting;
      if (booting?.generation === generation && !booting.settled) return booting.abort({ message });
      this.log.error(message);
      this.staffing.failed();
      this.staffing.manage();
    });
  }

  /**
   * Tops the standbys up to one per worker, so that the next cycle starts none cold. Not while
   * a cycle boots: they would take CPU from the workers it waits for.
   */
  private fillStandby(): void {
    if (startsStandbys(this.phase)) this.spawner?.fill(this.staffing.target);
  }

  /** A worker is ready: a cycle's boot may be done, a retiring worker may leave. */
  private ready(worker: WorkerProcess): void {
    this.fillStandby(); // a replacement outside a cycle (crash, max-requests, TTIN) is up
    this.booting?.ready(worker);
    this.staffing.retireReplaced();
  }

  // ---- reap, stop, halt --------------------------------------------------------------------

  /** A worker process ended (reported): clean up after it, and repair the worker set. */
  private reap(worker: WorkerProcess, { before, code, signal, reason }: WorkerExit): void {
    const { state } = worker;
    // A boot failure outside a cycle's boot (a respawn, a later worker of a generation already
    // live) is told here, on the worker's own line; a cycle's, by the cycle's `reload failed`.
    if (state === 'boot-failed' && worker.bootError && !this.booting?.has(worker))
      this.report.say(worker, 'error', formatError(worker.bootError));
    if (worker.pid) this.spawner?.reaped(worker.pid, (signal) => worker.signalGroup(signal));
    this.workers.delete(worker);
    this.pruneBuilds();
    const exit: WorkerExitInfo = { ...refOf(worker), code, signal, state, reason };
    void this.hooks.run('childExit', this.info, exit);
    if (before === 'draining' || before === 'killed') void this.hooks.run('workerExit', this.info, exit);
    this.booting?.exited(worker, before, code, signal);
    if (worker.generation === this.serving && LIVE_STATES.has(before) && !worker.retiring)
      this.staffing.lost(worker);
    if (this.phase.kind === 'stopping' && this.workers.size === 0)
      void this.halt(this.phase.mode === 'kill' ? EXIT.KILLED : EXIT.OK, `${this.phase.mode} stop`);
    else this.staffing.manage();
  }

  /** Stops the arbiter: every worker gets `mode`'s stop; the arbiter halts once all are gone. */
  stop(mode: StopMode, reason: string): void {
    if (!this.apply({ kind: 'stop', mode })) return;
    this.staffing.cancel();
    void this.spawner?.closeStandbys();
    this.booting?.abort({ message: `stopped (${reason})` });
    if (this.workers.size === 0) return void this.halt(EXIT.OK, `${mode} stop`);
    for (const worker of this.workers.all()) this.control.stop(worker, mode, reason);
  }

  /** Kills every worker's process group at once (the third Ctrl+C). */
  private killAll(reason: string): void {
    this.apply({ kind: 'kill' });
    if (this.phase.kind === 'halted') return;
    void this.spawner?.closeStandbys();
    for (const worker of this.workers.all()) this.control.killNow(worker, reason);
    if (this.workers.size === 0) void this.halt(EXIT.KILLED, reason);
  }

  /** Everything is stopped: the arbiter's own hooks run, the sockets close, and it exits. */
  private async halt(code: number, reason: string): Promise<void> {
    if (!this.apply({ kind: 'halt' })) return;
    this.staffing.cancel();
    await this.builds.dispose();
    await this.watcher?.close();
    // Hooks started without waiting (childExit of the last workers, an onReload the stop cut
    // short) finish before onExit, for a while; unless the user asked to kill everything now.
    await this.hooks.idle(code === EXIT.KILLED ? 0 : STOP_HOOK_WAIT_MS);
    // Workers of a failed boot were just killed: let their exits be reported first.
    await Promise.all(this.workers.all().map((worker) => worker.whenExited));
    await this.control.reported(); // what the last workers held
    await this.spawner?.closeStandbys();
    await this.hooks.run('onExit', this.info);
    for (const socket of this.sockets) socket.close();
    this.spawner?.containment.close();
    this.stopListening();
    this.report.exitedArbiter(code, reason);
    // Until here the arbiter holds its loop itself: hook timeouts are unref'd, and a hook that
    // never settles would otherwise let Node exit with nothing said.
    clearInterval(this.keepAlive);
    this.resolveDone(code);
  }

  // ---- wiring --------------------------------------------------------------------------------

  /** Moves the phase on; false when `input` does not apply to it (phase.ts). */
  private apply(input: PhaseInput): boolean {
    const next = nextPhase(this.phase, input);
    if (next) this.phase = next;
    return next !== undefined;
  }

  private get info(): ArbiterInfo {
    return arbiterInfo(this.config, this.staffing, this.sockets);
  }
}
