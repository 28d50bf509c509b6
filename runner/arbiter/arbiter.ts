/**
 * The arbiter: owns the listening sockets, keeps the right number of workers of the current
 * generation alive, cycles generations without dropping a connection, and stops them the way
 * it is told. Read it like a runbook: signals map to `handle*` methods, which call the verbs
 * `spawnWorker`, `manageWorkers`, `stopWorker`, `killWorker`, `reapWorker`, `reload`, `stop`.
 *
 * Nothing polls. Everything reacts to a process exit, a control message, a signal or a
 * deadline timer.
 */
import { formatBindAddress, parseBindAddress } from '../config/bind-address';
import type { ArbiterHooks, ArbiterInfo, WorkerExitInfo } from '../config/hooks';
import type { Settings } from '../config/settings';
import type { EventSink } from '../log/event-sink';
import type { Logger } from '../log/logger';
import type { ArbiterCommand } from '../protocol/commands';
import { FIRST_LISTEN_FD, type BootMessage, type StopMode, type WorkerMessage } from '../protocol/control';
import type { ErrorInfo } from '../protocol/events';
import { Backoff } from '../util/backoff';
import { EXIT } from '../protocol/exit-codes';
import { Deadline } from './workers/deadline';
import { describeBootFailure, describeEarlyCrash, describeExit, describeSpawnFailure } from './workers/exit-reasons';
import { HookRunner } from './hooks/hook-runner';
import { LIVE_STATES, transition, type LifecycleInput } from './workers/lifecycle';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { relative } from 'node:path';
import { WatcherHandle } from '../watch/watcher-handle';
import { arbiterOutputFiles } from '../watch/arbiter-output-files';
import { linkedWorkspacePackages } from '../watch/workspace-packages';
import { loopWarning, LOOP_REASON, ReloadLoops } from './intake/reload-loops';
import { isTypeScript, TypeScriptBuild } from '../typescript/typescript-build';
import { MARK_VARIABLE, OrphanReaper } from './containment/orphan-reaper';
import { WorkerCgroups } from './containment/worker-cgroups';
import { anotherCopyInTheWay } from './generations/coexistence';
import { typeScriptSyntaxError } from './generations/syntax-check';
import { runsTypeScript, tsxFlags } from './workers/typescript-runtime';
import { bindAll, urlOf, type BoundSocket } from './sockets';
import { StandbyPool } from './workers/standby-pool';
import { spawnWorkerChild, WorkerProcess, type WorkerChildOptions } from './workers/worker-process';
import { dropStaleBytecode, type PythonInterpreter } from '../config/python-app';
import { changedNames, readEnvFiles, type EnvFiles } from '../config/env-files';

/** A worker that stayed ready this long has proven the code works: its crash starts backoff afresh. */
const STABLE_MS = 10_000;
/** After a worker exits, leftovers in its process group get SIGTERM, then SIGKILL this much later. */
const GROUP_KILL_DELAY_MS = 1_000;
/** How long a worker has to answer a stop message before the stop's signal is sent too. */
const STOP_ANSWER_MS = 100;
/**
 * How long a reload waits for its old workers to say they accept no more connections before it
 * is announced complete anyway (a worker that cannot answer: frozen, or paused in a debugger).
 */
const CLOSE_CONFIRM_MS = 1_000;
/** How long a stop waits for arbiter hooks still running (an onReload the stop cut short) before onExit. */
const STOP_HOOK_WAIT_MS = 5_000;
/** After a heartbeat timeout's SIGABRT, how long the worker gets before SIGKILL. */
const ABORT_GRACE_MS = 1_000;

export type ArbiterOptions = {
  settings: Settings;
  appArgs: readonly string[];
  hooks: ArbiterHooks;
  cwd: string;
  log: Logger;
  events: EventSink;
  /** Re-reads the config file for HUP; throws a UsageError when it is broken. */
  reloadConfig?: () => Promise<{ settings: Settings; hooks: ArbiterHooks }>;
  /** The config file in use: watched, and a change to it re-reads it. */
  configFile?: string;
  /** Set for a `module:callable` app: the workers run the Python runtime on this interpreter. */
  python?: PythonRuntime;
};

export type PythonRuntime = {
  interpreter: PythonInterpreter;
  /** The gunicorn.conf.py in use, if any. */
  gunicornConfig?: string;
};

type Phase = 'starting' | 'running' | 'stopping' | 'done';

/**
 * How a generation's boot ended. `reported`: the worker runtime itself said the app could not be
 * loaded (an import error, a missing callable), as opposed to a boot the arbiter saw fail.
 */
type BootResult =
  | { ok: true }
  | {
      ok: false;
      error: ErrorInfo;
      reported?: boolean;
      /** The worker said another copy of the app is in the way (coexistence.ts). */
      anotherCopy?: string;
    };

/** A generation being booted: settles when all its workers are ready or one has failed. */
type Cycle = {
  generation: number;
  workers: Set<WorkerProcess>;
  settle: (result: BootResult) => void;
};

export class Arbiter {
  private settings: Settings;
  private readonly hooks: HookRunner;
  private readonly log: Logger;
  private readonly events: EventSink;
  private readonly workers = new Map<number, WorkerProcess>();
  private sockets: BoundSocket[] = [];
  private reaper: OrphanReaper | undefined;
  /** A cgroup per worker process, where Linux lets the arbiter make them. */
  private cgroups: WorkerCgroups | undefined;
  /** In every worker's environment, and so in everything it starts (see OrphanReaper). */
  private readonly mark = `${process.pid}-${randomBytes(6).toString('hex')}`;
  /** Worker processes started ahead of the next cycle (`standby` setting). */
  private standby: StandbyPool | undefined;
  private phase: Phase = 'starting';
  /** The generation that serves. */
  private generation = 0;
  private lastGeneration = 0;
  private nextWorkerId = 1;
  private target: number;
  private cycle: Cycle | undefined;
  /** A reload asked for while a cycle ran: folded into one follow-up. */
  private pendingReload: ReloadRequest | undefined;
  private watcher: WatcherHandle | undefined;
  /** A reload is under way (from its first await on: config, hooks, build, boot). */
  private cycling = false;
  /** Every worker opens its inspector (--inspect, or the editor asked for all). */
  private inspectAll: boolean;
  /** Replace mode: the old generation is being stopped; nothing is respawned meanwhile. */
  private replacing = false;
  /** tsx's loaders, for an app whose command line names TypeScript (typescript-runtime.ts). */
  private readonly nodeFlags: string[];
  /** The --env-file files and their variables, as last read. */
  private env: EnvFiles;
  /** Set for TypeScript apps: what the workers run is this build's output. */
  private readonly typescript: TypeScriptBuild | undefined;
  private backoff = Backoff.start();
  private respawnTimer: NodeJS.Timeout | undefined;
  private stopMode: StopMode | undefined;
  private interrupts = 0;
  private resolveDone!: (code: number) => void;
  private readonly done = new Promise<number>((resolve) => (this.resolveDone = resolve));
  private readonly signalListeners = new Map<NodeJS.Signals, () => void>();
  /**
   * Nothing else holds Node's loop open while no worker runs (after WINCH, between boot
   * failures): signal handles are unref'd and the sockets are bound but not watched. The
   * arbiter lives until it decides to exit, so it holds the loop itself.
   */
  private readonly keepAlive = setInterval(() => undefined, 2 ** 30);

  constructor(private readonly options: ArbiterOptions) {
    this.settings = options.settings;
    this.target = options.settings.workers;
    this.inspectAll = options.settings.inspect;
    this.log = options.log;
    this.events = options.events;
    this.hooks = new HookRunner(options.hooks, options.events, options.log);
    this.env = readEnvFiles(options.settings.envFile, options.cwd);
    this.nodeFlags =
      !options.python && runsTypeScript(options.settings.app, options.appArgs) ? tsxFlags() : [];
    if (isTypeScript(options.settings.app))
      this.typescript = new TypeScriptBuild(options.settings.app, options.cwd);
  }

  private get info(): ArbiterInfo {
    return {
      pid: process.pid,
      app: this.settings.app,
      workers: this.target,
      listeners: this.sockets.map(({ listener }) =>
        'path' in listener ? `unix:${listener.path}` : formatBindAddress({ kind: 'tcp', ...listener }),
      ),
    };
  }

  /** Binds, boots the first generation and serves until stopped; resolves to the exit code. */
  async run(): Promise<number> {
    await this.hooks.run('onStarting', this.info);
    this.sockets = await bindAll(this.settings.bind.map(parseBindAddress));
    this.cgroups = WorkerCgroups.open();
    this.reaper = new OrphanReaper({
      mark: this.mark,
      ...(this.cgroups ? { cgroup: this.cgroups.dir } : {}),
    });
    if (this.settings.standby) this.standby = this.createStandbyPool();
    this.installSignalHandlers();
    const listeners = this.sockets.map((socket) => socket.listener);
    this.events.emit({
      type: 'arbiter.started',
      pid: process.pid,
      listeners,
      ...(this.cgroups ? { cgroup: this.cgroups.dir } : {}),
      config: {
        app: this.settings.app,
        workers: this.target,
        gracefulTimeout: this.settings.gracefulTimeout,
        timeout: this.settings.timeout,
        bootTimeout: this.settings.bootTimeout,
        maxRequests: this.settings.maxRequests,
      },
    });
    const python = this.options.python;
    this.log.info(
      `arbiter ${process.pid} starting ${this.target} worker(s) for ${this.settings.app}${python ? ` on Python ${python.interpreter.version} (${python.interpreter.executable})${python.gunicornConfig ? ` with ${python.gunicornConfig}` : ''}` : ''}`,
    );

    // Watching starts with the boot, so the initial scan of a big tree overlaps it.
    if (this.settings.reload) this.startWatching();
    const result = await this.bootGeneration();
    if (this.phase !== 'starting') return this.done; // stopped while booting
    if (!result.ok) {
      this.log.error(`the app failed to boot: ${formatError(result.error)}`);
      await this.finish(
        result.error.file || result.error.stack || result.reported ? EXIT.APP_LOAD_ERROR : EXIT.BOOT_ERROR,
        'boot failed',
      );
      return this.done;
    }
    this.phase = 'running';
    this.generation = this.lastGeneration;
    this.reloadPending(); // changes saved while the first generation booted
    this.fillStandby();
    const urls = listeners.map(
      (listener) => urlOf(listener) ?? `unix:${'path' in listener ? listener.path : ''}`,
    );
    this.log.info(`serving ${urls.join(' and ')} with ${this.target} worker(s)`);
    await this.hooks.run('whenReady', this.info);
    return this.done;
  }

  // ---- signals ---------------------------------------------------------------------------
  // Node already delivers signals on the event loop, between tasks, so each handler runs to
  // completion and only starts asynchronous work: that is the queue gunicorn builds by hand.

  private readonly signalHandlers: Partial<Record<NodeJS.Signals, () => void>> = {
    SIGHUP: () => this.handleHup(),
    SIGTERM: () => this.handleTerm(),
    SIGINT: () => this.handleInt(),
    SIGQUIT: () => this.handleQuit(),
    SIGTTIN: () => this.handleTtin(),
    SIGTTOU: () => this.handleTtou(),
    SIGUSR1: () => this.handleUsr1(),
    SIGWINCH: () => this.handleWinch(),
  };

  private installSignalHandlers(): void {
    for (const [signal, handler] of Object.entries(this.signalHandlers) as [NodeJS.Signals, () => void][]) {
      const listener = () => {
        this.events.emit({
          type: 'signal',
          direction: 'received',
          signal,
          pid: process.pid,
          reason: 'received by the arbiter',
        });
        handler();
      };
      this.signalListeners.set(signal, listener);
      process.on(signal, listener);
    }
  }

  /** Reload: re-read the config, start a new generation, retire the old one once it is ready. */
  handleHup(): void {
    this.log.info('SIGHUP: reloading');
    void this.reload('SIGHUP', { rereadConfig: true });
  }

  /** Graceful stop: workers drain, run their shutdown hooks, are killed at the graceful timeout. */
  handleTerm(): void {
    this.log.info('SIGTERM: graceful stop');
    this.stop('graceful', 'SIGTERM');
  }

  /** Ctrl+C: first a graceful stop, then a quick stop, then kill everything now. */
  handleInt(): void {
    this.interrupts++;
    if (this.interrupts === 1) {
      this.log.info('Ctrl+C: graceful stop (press Ctrl+C again for a quick stop)');
      this.stop('graceful', 'Ctrl+C');
    } else if (this.interrupts === 2) {
      this.log.warn('Ctrl+C again: quick stop (press Ctrl+C once more to kill the workers now)');
      this.stop('quick', 'second Ctrl+C');
    } else {
      this.log.warn('Ctrl+C a third time: killing the workers now');
      this.killNow('third Ctrl+C');
    }
  }

  /** Quick stop: workers get the quick timeout for their hooks, then are killed. */
  handleQuit(): void {
    this.log.info('SIGQUIT: quick stop');
    this.stop('quick', 'SIGQUIT');
  }

  /** One worker more. */
  handleTtin(): void {
    this.setWorkerCount(this.target + 1, 'SIGTTIN');
  }

  /** One worker fewer, never below one. */
  handleTtou(): void {
    if (this.target <= 1) {
      this.log.info('SIGTTOU: already at one worker, which is the least there can be');
      return;
    }
    this.setWorkerCount(this.target - 1, 'SIGTTOU');
  }

  /** Reopen log files: the events file here, and the app's own through its workers. */
  handleUsr1(): void {
    this.log.info('SIGUSR1: reopening log files');
    this.events.reopen();
    for (const worker of this.liveWorkers()) {
      worker.send({ type: 'reopen-logs' });
      this.events.emit({
        ...this.ref(worker),
        type: 'signal',
        direction: 'sent',
        signal: 'SIGUSR1',
        via: 'message',
        reason: 'reopen log files',
      });
    }
  }

  /** Stop every worker but keep the arbiter and its sockets; TTIN or HUP brings workers back. */
  handleWinch(): void {
    // A terminal sends WINCH on every resize to its foreground process group; only honour it
    // when nobody could have resized us (as gunicorn only does when daemonized).
    if (process.stdout.isTTY || process.stdin.isTTY) {
      this.log.info('SIGWINCH ignored: the arbiter runs in a terminal, where it means a window resize');
      return;
    }
    this.log.info('SIGWINCH: stopping all workers, keeping the sockets open');
    this.target = 0;
    this.events.emit({ type: 'arbiter.workers', count: 0, reason: 'SIGWINCH' });
    for (const worker of this.liveWorkers()) this.stopWorker(worker, 'graceful', 'SIGWINCH');
    this.fillStandby(); // none are wanted now
  }

  /**
   * A command from the tool that drives the arbiter (--stdin-commands): what the user asked
   * for in the editor, done by the arbiter so that the event stream says who asked.
   */
  handleCommand(command: ArbiterCommand): void {
    if (command.type === 'inspect') {
      if (command.pid === undefined) this.inspectAll = true;
      for (const worker of this.workers.values())
        if (!worker.exited && (command.pid === undefined || worker.pid === command.pid))
          worker.send({ type: 'inspect' });
      return;
    }
    if (command.type === 'debugger') {
      const worker = this.runningWorker(command.pid);
      if (worker) this.setPaused(worker, command.paused);
      return;
    }
    const reason = command.reason ?? 'asked by the tool that started the arbiter';
    if (command.type === 'kill-generation') {
      const workers = [...this.workers.values()].filter(
        (worker) => worker.generation === command.generation && !worker.exited,
      );
      this.log.info(`killing generation ${command.generation} (${workers.length} worker(s)): ${reason}`);
      for (const worker of workers) this.killOnRequest(worker, reason);
      return;
    }
    const worker = this.runningWorker(command.pid);
    if (!worker) {
      this.log.warn(`${command.signal} for pid ${command.pid} ignored: no worker of this arbiter has it`);
      return;
    }
    switch (command.signal) {
      case 'SIGKILL':
        this.killOnRequest(worker, reason);
        return;
      case 'SIGTERM':
      case 'SIGINT':
      case 'SIGQUIT':
        this.stopWorker(worker, command.signal === 'SIGTERM' ? 'graceful' : 'quick', reason);
        this.manageWorkers(); // its replacement boots while it drains
        return;
      default:
        if (worker.signal(command.signal))
          this.events.emit({
            ...this.ref(worker),
            type: 'signal',
            direction: 'sent',
            signal: command.signal,
            via: 'os',
            reason,
          });
    }
  }

  /** The worker with this pid, if it still runs. */
  private runningWorker(pid: number): WorkerProcess | undefined {
    return [...this.workers.values()].find((worker) => worker.pid === pid && !worker.exited);
  }

  private killOnRequest(worker: WorkerProcess, reason: string): void {
    if (!transition(worker.state, { kind: 'kill' })) return; // already being killed or aborted
    worker.killRequest = reason;
    this.changeState(worker, { kind: 'kill' }, reason);
    this.manageWorkers(); // a worker of the serving generation is replaced at once
  }

  private setWorkerCount(count: number, reason: string): void {
    const from = this.target;
    this.target = count;
    this.log.info(`${reason}: ${from} → ${count} worker(s)`);
    this.events.emit({ type: 'arbiter.workers', count, reason });
    void this.hooks.run('workersChanged', this.info, { from, to: count });
    this.manageWorkers();
    if (count < from) this.fillStandby(); // more are topped up once the new worker is ready
  }

  // ---- generations -----------------------------------------------------------------------

  /** A graceful cycle: the new generation boots beside the old, which stops only once it is ready. */
  async reload(trigger: string, options: { rereadConfig?: boolean; files?: string[] } = {}): Promise<void> {
    if (this.phase === 'stopping' || this.phase === 'done') return;
    if (this.cycling || this.phase === 'starting') {
      this.pendingReload = foldReload(this.pendingReload, { trigger, ...options });
      return;
    }
    this.cycling = true;
    const startedAt = performance.now();
    const generation = this.lastGeneration + 1;
    this.events.emit({
      type: 'reload',
      phase: 'triggered',
      generation,
      trigger,
      ...(options.files ? { files: options.files } : {}),
    });
    let result: BootResult;
    /** Whether this cycle stopped the old generation first (replace mode). */
    let replaced = false;
    let configError = options.rereadConfig ? await this.rereadConfig() : undefined;
    const envChange = configError ? undefined : this.rereadEnv(options);
    if (envChange && 'error' in envChange) configError = envChange.error;
    const env =
      envChange && 'changed' in envChange && envChange.changed.length > 0 ? envChange.changed : undefined;
    if (configError) {
      result = { ok: false, error: configError };
    } else {
      await this.hooks.run('onReload', this.info, { generation, trigger });
      if (this.target === 0) this.target = this.settings.workers; // after WINCH
      replaced = this.settings.reloadMode === 'replace';
      if (replaced) await this.retireAll(generation);
      if (this.options.python && options.files) dropStaleBytecode(options.files);
      result = await this.bootGeneration(options.files);
    }
    const durationMs = Math.round(performance.now() - startedAt);
    this.cycling = false;
    this.replacing = false;
    if (this.phase !== 'running') return;
    if (!result.ok && result.anotherCopy && !replaced) {
      // The new generation could not boot beside the old one: the same cycle again, one at a time.
      this.runAlone(result.anotherCopy);
      this.pendingReload = foldReload({ trigger, ...options }, this.pendingReload ?? { trigger });
    }
    if (!result.ok && replaced && !configError) {
      // Nothing of the old generation is left to keep serving: keep trying the new one, with
      // backoff, until it boots or the next change fixes it. Connections wait in the backlog.
      this.generation = generation;
      this.backoff = this.backoff.fail();
      this.manageWorkers();
    }
    if (result.ok) {
      const previous = this.generation;
      this.generation = generation;
      this.backoff = this.backoff.succeed();
      const retired: WorkerProcess[] = [];
      for (const worker of this.liveWorkers()) {
        if (worker.generation >= generation) continue;
        this.stopWorker(worker, 'graceful', `reload (generation ${generation} is ready)`);
        retired.push(worker);
      }
      // Complete once no old worker accepts: no connection made after this reaches old code.
      await closedWithin(retired, CLOSE_CONFIRM_MS);
      this.events.emit({
        type: 'reload',
        phase: 'completed',
        generation,
        trigger,
        durationMs,
        ...(env ? { env } : {}),
      });
      const changedEnv = env ? `; env: ${env.join(', ')} changed` : '';
      this.log.info(
        `reloaded: generation ${generation} serves (was ${previous}), ${durationMs} ms${changedEnv}`,
      );
    } else {
      this.events.emit({
        type: 'reload',
        phase: 'failed',
        generation,
        trigger,
        durationMs,
        error: result.error,
        ...(env ? { env } : {}),
      });
      this.log.error(
        `reload failed, generation ${this.generation} keeps serving: ${formatError(result.error)}`,
      );
    }
    this.pruneBuilds();
    this.reloadPending();
  }

  /**
   * Deletes the TypeScript outputs nothing will load again: those of generations that neither
   * serve, nor run a worker, nor are the latest build (booting, or kept for the next retry).
   */
  private pruneBuilds(): void {
    if (!this.typescript) return;
    const needed = new Set([this.generation, this.lastGeneration]);
    for (const worker of this.workers.values()) needed.add(worker.generation);
    for (const generation of this.typescript.generations())
      if (!needed.has(generation)) this.typescript.remove(generation);
  }

  private reloadPending(): void {
    const pending = this.pendingReload;
    this.pendingReload = undefined;
    if (pending) void this.reload(pending.trigger, pending);
    else this.fillStandby();
  }

  private createStandbyPool(): StandbyPool {
    return new StandbyPool({
      spawn: () => this.startProcess(),
      onStarted: (pid) => this.events.emit({ type: 'standby', pid, phase: 'started' }),
      onEnded: (pid, died) => {
        this.reaper?.forget(pid);
        this.cgroups?.remove(pid); // nothing of the app ever ran in it
        this.events.emit({ type: 'standby', pid, phase: 'ended', reason: died ?? 'not needed' });
        if (died) this.log.warn(`a standby worker (pid ${pid}) ${died} before it was needed`);
      },
      onGaveUp: (reason) =>
        this.log.warn(`${reason}: workers start cold from now on (--no-standby silences this)`),
    });
  }

  /**
   * Tops the standbys up to one per worker, so that the next cycle starts none cold. Not while
   * a cycle boots: they would take CPU from the workers it waits for.
   */
  private fillStandby(): void {
    if (this.phase === 'running' && !this.cycling) this.standby?.fill(this.target);
  }

  /** Starts the one watcher; its batches become reloads (a config change also re-reads it). */
  private startWatching(): void {
    const root = this.options.cwd;
    const configFile = this.options.configFile;
    const loops = new ReloadLoops();
    this.events.subscribe((event) => loops.observe(event));
    const packages = linkedWorkspacePackages(root);
    if (packages.length > 0)
      this.log.info(
        `watching the workspace packages it imports too: ${packages.map((p) => relative(root, p)).join(', ')}`,
      );
    this.watcher = new WatcherHandle({
      root,
      roots: packages,
      ignore: this.settings.ignore,
      watch: this.settings.watch,
      // An env file is watched even where .gitignore leaves it out, as .env files always are.
      alwaysWatched: [...(configFile ? [configFile] : []), ...this.env.files],
      ownFiles: arbiterOutputFiles(this.settings.events, root),
      onBatch: (batch, openedAt) => {
        if (this.phase === 'stopping' || this.phase === 'done') return;
        const { files, looping } = loops.batch(batch, openedAt);
        for (const file of looping) {
          this.events.emit({ type: 'watcher.ignored', file, reason: LOOP_REASON });
          this.log.warn(loopWarning(relative(root, file) || file));
        }
        if (files.length === 0) return;
        const shown = files.slice(0, 3).map((file) => relative(root, file) || file);
        const more = files.length > 3 ? ` and ${files.length - 3} more` : '';
        this.log.info(`changed: ${shown.join(', ')}${more}`);
        void this.reload('file change', {
          files,
          rereadConfig: configFile !== undefined && files.includes(configFile),
        });
      },
      onReady: ({ files, folders, polled, durationMs }) => {
        if (this.phase === 'stopping' || this.phase === 'done') return;
        this.events.emit({ type: 'watcher.ready', root, files, folders, polled, durationMs });
        const alsoPolled = polled > 0 ? ` and ${polled} polled` : '';
        this.log.info(`watching ${files} files in ${folders} folders${alsoPolled} (${durationMs} ms)`);
      },
      onWarning: (message) => this.log.warn(message),
      onIgnored: (file, reason) => {
        this.events.emit({ type: 'watcher.ignored', file, reason });
        this.log.info(`not reloading on ${relative(root, file) || file}: ${reason}`);
      },
    });
  }

  /**
   * Reads the env files again when one of them changed or the config was re-read (it may name
   * others): the names that changed, or why they could not be read (the cycle then fails and
   * the old variables stay).
   */
  private rereadEnv(options: {
    rereadConfig?: boolean;
    files?: string[];
  }): { changed: string[] } | { error: ErrorInfo } | undefined {
    const touched = options.files?.some((file) => this.env.files.includes(file));
    if (!touched && !options.rereadConfig) return undefined;
    try {
      const next = readEnvFiles(this.settings.envFile, this.options.cwd);
      const changed = changedNames(this.env.vars, next.vars);
      this.env = next;
      return { changed };
    } catch (error) {
      return { error: { message: (error as Error).message } };
    }
  }

  private async rereadConfig(): Promise<ErrorInfo | undefined> {
    if (!this.options.reloadConfig) return undefined;
    try {
      const { settings, hooks } = await this.options.reloadConfig();
      if (settings.bind.join() !== this.settings.bind.join()) {
        this.log.warn('the bind addresses changed; restart the arbiter to listen on the new ones');
        settings.bind = this.settings.bind;
      }
      if (settings.workers !== this.settings.workers) this.target = settings.workers;
      this.settings = { ...settings, app: this.settings.app };
      this.hooks.replace(hooks);
      return undefined;
    } catch (error) {
      return { message: (error as Error).message };
    }
  }

  /**
   * Replace mode, for apps that cannot run twice at once (a port of their own, a lock file):
   * the old generation stops first. Connections wait in the socket's backlog meanwhile.
   */
  private async retireAll(generation: number): Promise<void> {
    this.replacing = true;
    const old = this.liveWorkers();
    for (const worker of old) {
      this.stopWorker(
        worker,
        'graceful',
        `reload (replace mode: generation ${generation} starts once this one is gone)`,
      );
    }
    await Promise.all(old.map((worker) => worker.whenExited));
  }

  /** Starts `target` workers of a new generation and waits until all are ready or one fails. */
  /** `changed`: the files this cycle changed, whose syntax is checked before any worker serves them. */
  private async bootGeneration(changed?: string[]): Promise<BootResult> {
    // A stop that came while the cycle awaited its config or hooks: nothing new may start.
    if (this.stopping) return { ok: false, error: { message: 'stopped' } };
    const generation = ++this.lastGeneration;
    if (this.typescript) {
      // A syntax error is caught here, before a single worker is spawned.
      const built = await this.typescript.build(generation);
      if (!built.ok) return built;
      if (this.stopping) return { ok: false, error: { message: 'stopped' } };
    }
    const syntax = changed ? await typeScriptSyntaxError(changed) : undefined;
    if (syntax) return { ok: false, error: syntax };
    // Python's are compiled by the new workers themselves, before they load the app.
    const check = this.options.python ? changed?.filter((file) => file.endsWith('.py')) : undefined;
    return new Promise((settle) => {
      const cycle: Cycle = { generation, workers: new Set(), settle };
      this.cycle = cycle;
      cycle.settle = (result) => {
        if (this.cycle !== cycle) return;
        this.cycle = undefined;
        if (!result.ok) {
          for (const worker of cycle.workers)
            if (!worker.exited) this.killWorker(worker, 'its generation failed to boot');
        }
        settle(result);
      };
      for (let i = 0; i < this.target; i++) {
        const worker = this.spawnWorker(generation, check);
        if (!worker) break; // the cycle fails once the spawn's error is known; the rest would too
        cycle.workers.add(worker);
      }
      if (this.target === 0) cycle.settle({ ok: true });
    });
  }

  // ---- workers ---------------------------------------------------------------------------

  /** How every worker process starts, cold or as a standby. */
  private childOptions(): WorkerChildOptions {
    const python = this.options.python;
    return {
      app: this.settings.app,
      args: this.options.appArgs,
      nodeFlags: this.nodeFlags,
      runtime: python ? { kind: 'python', interpreter: python.interpreter.executable } : { kind: 'node' },
      cwd: this.options.cwd,
      env: { ...process.env, PORT: this.primaryPort(), [MARK_VARIABLE]: this.mark },
      listenFds: this.sockets.map((socket) => socket.fd),
    };
  }

  /**
   * Starts a worker process (cold, or as a standby) and puts it in the orphan reaper's care
   * and in a cgroup of its own, before it can start anything: its whole tree is then known.
   */
  private startProcess(): ChildProcess {
    const child = spawnWorkerChild(this.childOptions());
    if (child.pid) {
      this.reaper?.watch(child.pid);
      if (this.cgroups && !this.cgroups.add(child.pid)) this.cgroups = undefined;
    }
    return child;
  }

  /** How the Python runtime serves the app; what is left unset, it decides (gunicorn.conf.py, the callable). */
  private pythonBoot(python: PythonRuntime): NonNullable<BootMessage['python']> {
    const { threads } = this.settings;
    const kind = this.settings.interface as 'auto' | 'wsgi' | 'asgi';
    const workerClass = this.settings.workerClass as 'auto' | 'sync' | 'gthread' | 'gevent';
    return {
      ...(kind !== 'auto' ? { interface: kind } : {}),
      ...(workerClass !== 'auto' ? { workerClass } : {}),
      ...(threads > 0 ? { threads } : {}),
      ...(python.gunicornConfig ? { config: python.gunicornConfig } : {}),
    };
  }

  /** Starts a worker of `generation`; undefined when no process could be started (reported once known). */
  private spawnWorker(generation: number, check?: string[]): WorkerProcess | undefined {
    const id = this.nextWorkerId++;
    void this.hooks.run('preFork', this.info, { id, generation });
    const port = this.primaryPort();
    const child = this.standby?.take() ?? this.startProcess();
    if (!child.pid) {
      this.spawnFailed(generation, child);
      return undefined;
    }
    const worker = new WorkerProcess({
      id,
      generation,
      child,
      onMessage: (w, message) => this.handleWorkerMessage(w, message),
      onInvalidMessage: (w, error) =>
        this.log.worker(w.id, w.pid, 'warn', `malformed control message skipped: ${error}`),
      onProtocolError: (w, error) => this.killOnRequest(w, `protocol error: ${error}`),
      onOutput: (w, _stream, line) => this.log.appOutput(w.id, w.pid, line),
      onExit: (w, code, signal) => this.reapWorker(w, code, signal),
      onChannelLost: (w) => this.channelLost(w),
    });
    this.workers.set(id, worker);
    const jitter =
      this.settings.maxRequestsJitter > 0
        ? Math.floor(Math.random() * (this.settings.maxRequestsJitter + 1))
        : 0;
    worker.send({
      type: 'boot',
      id,
      generation,
      app: this.typescript?.outputOf(generation) ?? this.settings.app,
      ...(Object.keys(this.env.vars).length > 0 ? { env: this.env.vars } : {}),
      ...(check?.length ? { check } : {}),
      sourceMaps: this.typescript !== undefined,
      longLivedGraceMs: Math.round(this.settings.longLivedGrace * 1000),
      port,
      listenFds: this.sockets.map((_, index) => FIRST_LISTEN_FD + index),
      maxRequests: this.settings.maxRequests > 0 ? this.settings.maxRequests + jitter : 0,
      // Four beats per timeout: one late beat is never mistaken for a frozen worker.
      heartbeatMs:
        this.settings.timeout > 0 ? Math.max(50, Math.round((this.settings.timeout * 1000) / 4)) : 0,
      ...(this.options.python ? { python: this.pythonBoot(this.options.python) } : {}),
    });
    if (this.inspectAll) worker.send({ type: 'inspect' });
    this.armBootTimer(worker);
    this.events.emit({ type: 'worker.spawned', ...this.ref(worker) });
    this.events.emit({
      type: 'worker.state',
      ...this.ref(worker),
      state: 'booting',
      reason: `generation ${generation}`,
    });
    void this.hooks.run('postFork', this.info, this.ref(worker));
    return worker;
  }

  /**
   * No process could be started (the project folder gone for a moment, no file descriptors or
   * processes left): a boot failure like any other. The generation booting fails, and keeps
   * the old one serving; a replacement is tried again with backoff. Node says why on the
   * child's 'error', in the same turn of the loop as the spawn.
   */
  private spawnFailed(generation: number, child: ChildProcess): void {
    child.once('error', (error) => {
      const message = `cannot start a worker process: ${describeSpawnFailure(error, this.options.cwd)}`;
      const cycle = this.cycle;
      if (cycle?.generation === generation) return cycle.settle({ ok: false, error: { message } });
      this.log.error(message);
      this.backoff = this.backoff.fail();
      this.manageWorkers();
    });
  }

  /** Keeps the serving generation at `target` live workers: replaces the lost, retires the extra. */
  private manageWorkers(): void {
    if (this.phase !== 'running' || this.replacing) return;
    const live = this.liveWorkers().filter(
      (worker) => worker.generation === this.generation && !worker.retiring,
    );
    if (live.length > this.target) {
      const oldest = live.sort((a, b) => a.spawnedAt - b.spawnedAt).slice(0, live.length - this.target);
      for (const worker of oldest) this.stopWorker(worker, 'graceful', 'fewer workers wanted');
      return;
    }
    if (live.length === this.target || this.respawnTimer) return;
    const delay = this.backoff.delayMs;
    const spawnMissing = () => {
      this.respawnTimer = undefined;
      if (this.phase !== 'running') return;
      const count = this.liveWorkers().filter(
        (worker) => worker.generation === this.generation && !worker.retiring,
      ).length;
      for (let i = count; i < this.target; i++) if (!this.spawnWorker(this.generation)) break;
    };
    if (delay === 0) return spawnMissing();
    this.log.warn(`starting a worker again in ${delay} ms (${this.backoff.failures} failures in a row)`);
    this.respawnTimer = setTimeout(spawnMissing, delay);
  }

  /**
   * Stops a worker the way it is told; the deadline timer kills it if it does not leave in
   * time. A graceful stop can be escalated to a quick one, which only ever brings the
   * deadline closer.
   */
  private stopWorker(worker: WorkerProcess, mode: StopMode, reason: string): void {
    if (worker.exited) return;
    const escalating = worker.state === 'draining';
    if (escalating && (mode === 'graceful' || worker.stopMode === 'quick')) return;
    if (!escalating && transition(worker.state, { kind: 'stop' }) !== 'draining') return; // failed or being killed
    clearTimeout(worker.timers.boot);
    clearTimeout(worker.timers.heartbeat); // a stopping worker is bounded by its deadline instead
    // What the worker gets is the stop's signal, as far as the app can tell (the runtime runs
    // its handlers for it); it travels as a message first, and as a real signal only if the
    // worker does not answer the message.
    const signal: NodeJS.Signals = mode === 'graceful' ? 'SIGTERM' : 'SIGINT';
    worker.send({ type: 'stop', mode, reason });
    this.events.emit({
      ...this.ref(worker),
      type: 'signal',
      direction: 'sent',
      signal,
      via: 'message',
      reason: `${mode} stop: ${reason}`,
    });
    clearTimeout(worker.timers.signal);
    worker.timers.signal = setTimeout(() => {
      if (!worker.signal(signal)) return;
      this.events.emit({
        ...this.ref(worker),
        type: 'signal',
        direction: 'sent',
        signal,
        via: 'os',
        reason: `${mode} stop: ${reason} (no answer to the stop message within ${STOP_ANSWER_MS} ms)`,
      });
    }, STOP_ANSWER_MS);
    // The deadline counts from the request, so it is taken after the message went out.
    const seconds = mode === 'graceful' ? this.settings.gracefulTimeout : this.settings.quickTimeout;
    const deadline = Math.min(Date.now() + seconds * 1000, worker.stopDeadline ?? Infinity);
    worker.stopMode = mode;
    worker.stopDeadline = deadline;
    if (escalating) {
      this.events.emit({
        type: 'worker.state',
        ...this.ref(worker),
        state: 'draining',
        reason: `quick stop: ${reason}`,
        deadline,
      });
    } else {
      this.changeState(worker, { kind: 'stop' }, `${mode} stop: ${reason}`, { deadline });
    }
    if (worker.paused)
      clearTimeout(worker.timers.signal); // it cannot answer while paused
    else this.armStopDeadline(worker);
  }

  private armBootTimer(worker: WorkerProcess): void {
    clearTimeout(worker.timers.boot);
    worker.timers.boot = setTimeout(
      () =>
        this.changeState(worker, { kind: 'boot-timeout' }, `not ready within ${this.settings.bootTimeout} s`),
      this.settings.bootTimeout * 1000,
    );
  }

  private armHeartbeat(worker: WorkerProcess): void {
    clearTimeout(worker.timers.heartbeat);
    if (this.settings.timeout <= 0) return;
    worker.timers.heartbeat = setTimeout(
      () =>
        this.changeState(
          worker,
          { kind: 'heartbeat-timeout' },
          `no heartbeat for ${this.settings.timeout} s`,
        ),
      this.settings.timeout * 1000,
    );
  }

  /** Kills a stopping worker at its `stopDeadline`. */
  private armStopDeadline(worker: WorkerProcess): void {
    worker.timers.stop?.cancel();
    if (worker.stopDeadline === undefined) return;
    worker.timers.stop = new Deadline(worker.stopDeadline, () => {
      const quick = worker.stopMode === 'quick';
      const label = quick ? 'quick timeout' : 'graceful timeout';
      const seconds = quick ? this.settings.quickTimeout : this.settings.gracefulTimeout;
      const lingering = worker.lingering?.length ? `; still open: ${worker.lingering.join(', ')}` : '';
      this.changeState(worker, { kind: 'stop-timeout' }, `${label} (${seconds} s) ran out${lingering}`);
    });
  }

  /**
   * A debugger stopped the worker at a breakpoint (or let it go): while it is paused nothing in
   * it runs — no beats, no drain, no answer — so its boot, heartbeat and stop deadlines are
   * suspended; on resume the boot and heartbeat windows start afresh and a stop gets what was
   * left of its time. The editor says when (it sees the debugger's stopped/continued events).
   */
  private setPaused(worker: WorkerProcess, paused: boolean): void {
    if (worker.exited || worker.paused === paused) return;
    worker.paused = paused;
    const now = Date.now();
    if (paused) {
      worker.pausedAt = now;
      clearTimeout(worker.timers.boot);
      clearTimeout(worker.timers.heartbeat);
      clearTimeout(worker.timers.signal);
      worker.timers.stop?.cancel();
    } else {
      if (worker.state === 'booting') this.armBootTimer(worker);
      if (worker.state === 'ready') this.armHeartbeat(worker);
      if (worker.state === 'draining' && worker.stopDeadline !== undefined) {
        worker.stopDeadline += now - (worker.pausedAt ?? now);
        this.armStopDeadline(worker);
        this.events.emit({
          type: 'worker.state',
          ...this.ref(worker),
          state: 'draining',
          reason: 'resumed by the debugger: the stop deadline moved by the time it was paused',
          deadline: worker.stopDeadline,
        });
      }
      worker.pausedAt = undefined;
    }
    this.log.worker(
      worker.id,
      worker.pid,
      'info',
      paused ? 'paused in the debugger: its deadlines wait' : 'resumed: its deadlines run again',
    );
    this.events.emit({ type: 'worker.paused', ...this.ref(worker), paused });
  }

  /** Kills a worker's whole process group now. */
  private killWorker(worker: WorkerProcess, reason: string): void {
    if (worker.signalGroup('SIGKILL')) {
      this.events.emit({
        ...this.ref(worker),
        type: 'signal',
        direction: 'sent',
        signal: 'SIGKILL',
        via: 'os',
        reason,
      });
    }
  }

  /** Applies a lifecycle input; side effects of entering a state happen here. */
  private changeState(
    worker: WorkerProcess,
    input: LifecycleInput,
    reason: string,
    extra: { deadline?: number } = {},
  ): void {
    const next = transition(worker.state, input);
    if (!next || next === worker.state) return;
    worker.state = next;
    this.events.emit({ type: 'worker.state', ...this.ref(worker), state: next, reason, ...extra });
    switch (next) {
      case 'ready':
        this.log.worker(worker.id, worker.pid, 'info', `ready (generation ${worker.generation})`);
        this.fillStandby(); // a replacement outside a cycle (crash, max-requests, TTIN) is up
        break;
      case 'draining':
        break;
      case 'boot-failed':
        if (input.kind === 'boot-timeout') {
          worker.bootError ??= {
            message: `worker ${worker.id} was not ready within ${this.settings.bootTimeout} s (did the app call listen() on PORT?)`,
          };
          this.killWorker(worker, reason);
        }
        break;
      case 'timed-out':
        this.log.worker(
          worker.id,
          worker.pid,
          'warn',
          `no heartbeat for ${this.settings.timeout} s: aborting and replacing it`,
        );
        if (worker.signal('SIGABRT')) {
          this.events.emit({
            ...this.ref(worker),
            type: 'signal',
            direction: 'sent',
            signal: 'SIGABRT',
            via: 'os',
            reason,
          });
        }
        worker.timers.kill = setTimeout(
          () => this.killWorker(worker, `still alive ${ABORT_GRACE_MS} ms after SIGABRT`),
          ABORT_GRACE_MS,
        );
        this.manageWorkers();
        break;
      case 'killed':
        this.log.worker(worker.id, worker.pid, 'warn', `killed: ${reason}`);
        this.killWorker(worker, reason);
        break;
      case 'exited':
      case 'crashed':
      case 'booting':
        break;
    }
  }

  private handleWorkerMessage(worker: WorkerProcess, message: WorkerMessage): void {
    switch (message.type) {
      case 'ready':
        return this.markReady(worker);
      case 'heartbeat':
        worker.timers.heartbeat?.refresh();
        if (message.served !== worker.served || message.inflight !== worker.inflight) {
          worker.served = message.served;
          worker.inflight = message.inflight;
          this.events.emit({
            type: 'worker.stats',
            ...this.ref(worker),
            served: message.served,
            inflight: message.inflight,
          });
        }
        return;
      case 'boot-error':
      case 'fatal':
        worker.bootError ??= message.error;
        worker.bootErrorReported = true;
        return;
      case 'hook':
        return this.reportWorkerHook(worker, message);
      case 'stopping':
        if (message.mode === worker.stopMode) clearTimeout(worker.timers.signal);
        return;
      case 'closed':
        return worker.markClosed();
      case 'retire':
        if (worker.retiring || worker.state !== 'ready') return;
        worker.retiring = message.reason;
        this.log.worker(worker.id, worker.pid, 'info', `${message.reason}: replacing it`);
        this.manageWorkers();
        return;
      case 'lingering':
        worker.lingering = message.resources;
        this.log.worker(
          worker.id,
          worker.pid,
          'warn',
          `finished its shutdown but is kept alive by: ${message.resources.join(', ')}`,
        );
        this.events.emit({ type: 'worker.lingering', ...this.ref(worker), resources: message.resources });
        return;
      case 'notice':
        this.log.worker(worker.id, worker.pid, message.level, message.message);
        return;
      case 'inspector':
        if (message.error) {
          this.log.worker(worker.id, worker.pid, 'warn', `cannot open its inspector: ${message.error}`);
          this.events.emit({ type: 'worker.inspector', ...this.ref(worker), error: message.error });
        } else if (message.url && message.port) {
          this.log.worker(worker.id, worker.pid, 'info', `inspector on ${message.url}`);
          this.events.emit({
            type: 'worker.inspector',
            ...this.ref(worker),
            url: message.url,
            port: message.port,
          });
        }
        return;
    }
  }

  private markReady(worker: WorkerProcess): void {
    if (worker.state !== 'booting') return;
    clearTimeout(worker.timers.boot);
    worker.readyAt = Date.now();
    this.changeState(worker, { kind: 'ready' }, 'listening on the shared socket');
    if (!worker.paused) this.armHeartbeat(worker);
    const cycle = this.cycle;
    if (cycle?.workers.has(worker) && [...cycle.workers].every((w) => w.state === 'ready'))
      cycle.settle({ ok: true });
    this.retireReplaced();
  }

  /**
   * A worker whose control channel closed while it runs (the app closed fd 3) can no longer
   * beat, report or be asked to stop but by signals: it is replaced, and leaves once its
   * replacement is ready (its stop then travels as a signal).
   */
  private channelLost(worker: WorkerProcess): void {
    const reason = 'its control channel (fd 3) closed while it runs';
    this.log.worker(worker.id, worker.pid, 'warn', `${reason} (did the app close fd 3?): replacing it`);
    clearTimeout(worker.timers.heartbeat); // it cannot beat any more
    if (worker.state === 'booting') return this.killOnRequest(worker, reason);
    if (worker.state !== 'ready' || worker.retiring) return;
    worker.retiring = reason;
    this.manageWorkers();
  }

  /**
   * The app cannot run twice at once (it said so as a second copy failed): from now on one
   * worker, and cycles stop the old generation before they start the new, as
   * `-w 1 --reload-mode replace` would; said once, with those flags to make it the default.
   */
  private runAlone(said: string): void {
    if (this.settings.reloadMode === 'replace' && this.target === 1) return;
    this.log.warn(
      `this app cannot run twice at once ("${said}"): running one worker, and each reload stops it before starting the next (start with -w 1 --reload-mode replace to say so)`,
    );
    this.settings = { ...this.settings, workers: 1, reloadMode: 'replace' };
    if (this.target !== 1) {
      this.target = 1;
      this.events.emit({ type: 'arbiter.workers', count: 1, reason: 'the app cannot run twice at once' });
    }
  }

  /** Workers that asked to retire leave once enough replacements are ready. */
  private retireReplaced(): void {
    const current = this.liveWorkers().filter((worker) => worker.generation === this.generation);
    let ready = current.filter((worker) => worker.state === 'ready' && !worker.retiring).length;
    for (const worker of current) {
      if (worker.retiring && worker.state === 'ready' && ready >= this.target) {
        this.stopWorker(worker, 'graceful', `${worker.retiring} and its replacement is ready`);
        ready--;
      }
    }
  }

  private reportWorkerHook(worker: WorkerProcess, message: Extract<WorkerMessage, { type: 'hook' }>): void {
    if (message.phase === 'start')
      worker.openHooks.set(message.run, { name: message.name, startedAt: Date.now() });
    else worker.openHooks.delete(message.run);
    this.events.emit({
      type: 'hook',
      scope: 'worker',
      pid: worker.pid,
      workerId: worker.id,
      generation: worker.generation,
      name: message.name,
      phase: message.phase,
      ...(message.outcome ? { outcome: message.outcome } : {}),
      ...(message.durationMs !== undefined ? { durationMs: message.durationMs } : {}),
      ...(message.error ? { error: message.error } : {}),
    });
    if (message.phase === 'end') {
      const detail = message.error ? `: ${message.error}` : '';
      const level = message.outcome === 'ok' ? 'info' : 'warn';
      this.log.worker(
        worker.id,
        worker.pid,
        level,
        `hook ${message.name}: ${message.outcome} in ${message.durationMs} ms${detail}`,
      );
    }
  }

  /** A worker process ended: record how, clean up after it, and repair the worker set. */
  private reapWorker(worker: WorkerProcess, code: number | null, signal: NodeJS.Signals | null): void {
    worker.clearTimers();
    const before = worker.state;
    this.changeState(
      worker,
      { kind: 'exit', clean: code === 0 && !signal },
      describeExit(before, code, signal),
    );
    const reason = describeExit(worker.state, code, signal, worker);
    const hookOutcome =
      signal === 'SIGKILL' || worker.state === 'killed' || worker.state === 'timed-out'
        ? 'killed'
        : 'interrupted';
    for (const [run, hook] of worker.openHooks) {
      this.events.emit({
        type: 'hook',
        scope: 'worker',
        pid: worker.pid,
        workerId: worker.id,
        generation: worker.generation,
        name: hook.name,
        phase: 'end',
        outcome: hookOutcome,
        durationMs: Date.now() - hook.startedAt,
        error:
          hookOutcome === 'killed'
            ? 'never finished: the worker was killed'
            : 'never finished: the worker exited',
      });
      worker.openHooks.delete(run);
    }
    this.events.emit({
      type: 'worker.exited',
      ...this.ref(worker),
      code,
      signal,
      state: worker.state,
      reason,
    });
    const level = worker.state === 'exited' ? 'info' : 'warn';
    this.log.worker(worker.id, worker.pid, level, `${worker.state}: ${reason}`);
    const cycle = this.cycle;
    if (worker.state === 'boot-failed' && worker.bootError && !cycle?.workers.has(worker)) {
      this.log.worker(worker.id, worker.pid, 'error', formatError(worker.bootError));
    }
    this.cleanUpAfter(worker);
    this.workers.delete(worker.id);
    this.pruneBuilds();

    const exitInfo: WorkerExitInfo = { ...this.ref(worker), code, signal, state: worker.state, reason };
    void this.hooks.run('childExit', this.info, exitInfo);
    if (before === 'draining' || before === 'killed') void this.hooks.run('workerExit', this.info, exitInfo);

    // Never ready: it exited while booting, was killed at the boot timeout or on request.
    // (One stopped while booting belongs to a stop, which ends the cycle its own way.)
    if (cycle?.workers.has(worker) && worker.readyAt !== undefined && LIVE_STATES.has(before)) {
      // Up, then gone, while its siblings still boot: the generation is not healthy.
      cycle.settle({ ok: false, error: describeEarlyCrash(worker, code, signal) });
    } else if (cycle?.workers.has(worker) && worker.readyAt === undefined && before !== 'draining') {
      const anotherCopy = anotherCopyInTheWay([...worker.stderrTail, worker.bootError?.message ?? '']);
      const siblings = [...cycle.workers].filter((w) => w !== worker && !w.exited);
      if (anotherCopy && siblings.length > 0) {
        // The code boots (a sibling of the same generation does): it only cannot run twice.
        this.runAlone(anotherCopy);
        cycle.workers.delete(worker);
        if (siblings.every((w) => w.state === 'ready')) cycle.settle({ ok: true });
      } else {
        cycle.settle({
          ok: false,
          error: worker.bootError ?? describeBootFailure(worker, code, signal),
          reported: worker.bootErrorReported,
          ...(anotherCopy ? { anotherCopy } : {}),
        });
      }
    }
    if (worker.generation === this.generation && LIVE_STATES.has(before) && !worker.retiring) {
      const stable = worker.readyAt !== undefined && Date.now() - worker.readyAt >= STABLE_MS;
      this.backoff = (stable ? this.backoff.succeed() : this.backoff).fail();
    }
    if (this.phase === 'stopping' && this.workers.size === 0)
      void this.finish(
        this.stopMode === undefined ? EXIT.KILLED : EXIT.OK,
        `${this.stopMode ?? 'kill'} stop`,
      );
    else this.manageWorkers();
  }

  /**
   * Processes the worker started may outlive it — in its process group, or (found through its
   * cgroup) ones that left the group: ask them to leave, then make them.
   */
  private cleanUpAfter(worker: WorkerProcess): void {
    const pid = worker.pid;
    if (!pid) return;
    const cgroups = this.cgroups;
    const inGroup = worker.signalGroup('SIGTERM');
    const escaped = cgroups?.members(pid).length ?? 0;
    cgroups?.signal(pid, 'SIGTERM');
    if (!inGroup && escaped === 0) {
      this.reaper?.forget(pid);
      cgroups?.remove(pid);
      return;
    }
    setTimeout(() => {
      worker.signalGroup('SIGKILL');
      cgroups?.kill(pid);
      this.reaper?.forget(pid);
      if (cgroups) removeWhenEmpty(cgroups, pid);
    }, GROUP_KILL_DELAY_MS).unref();
  }

  // ---- stopping --------------------------------------------------------------------------

  /** Stops the arbiter: every worker gets `mode`'s stop; the arbiter exits once all are gone. */
  stop(mode: StopMode, reason: string): void {
    if (this.phase === 'done') return;
    if (this.stopMode === 'quick' || this.stopMode === mode) return;
    this.phase = 'stopping';
    this.stopMode = mode;
    clearTimeout(this.respawnTimer);
    void this.standby?.close();
    this.cycle?.settle({ ok: false, error: { message: `stopped (${reason})` } });
    if (this.workers.size === 0) {
      void this.finish(EXIT.OK, `${mode} stop`);
      return;
    }
    for (const worker of this.workers.values()) this.stopWorker(worker, mode, reason);
  }

  /** Kills every worker's process group at once. */
  killNow(reason: string): void {
    this.phase = 'stopping';
    this.stopMode = undefined;
    void this.standby?.close();
    for (const worker of this.workers.values()) {
      // Shown as killed, for this reason; one already being killed is only signalled again.
      if (transition(worker.state, { kind: 'kill' })) this.killOnRequest(worker, reason);
      else this.killWorker(worker, reason);
    }
    if (this.workers.size === 0) void this.finish(EXIT.KILLED, reason);
  }

  private async finish(code: number, reason: string): Promise<void> {
    if (this.phase === 'done') return;
    this.phase = 'done';
    clearTimeout(this.respawnTimer);
    await this.typescript?.dispose();
    await this.watcher?.close();
    // Hooks started without waiting (childExit of the last workers, an onReload the stop cut
    // short) finish before onExit, for a while; unless the user asked to kill everything now.
    await this.hooks.idle(code === EXIT.KILLED ? 0 : STOP_HOOK_WAIT_MS);
    // Workers of a failed boot were just killed: let their exits be reported first.
    await Promise.all([...this.workers.values()].map((worker) => worker.whenExited));
    await this.standby?.close();
    await this.hooks.run('onExit', this.info);
    for (const socket of this.sockets) socket.close();
    this.reaper?.close();
    for (const [signal, listener] of this.signalListeners) process.off(signal, listener);
    this.events.emit({ type: 'arbiter.exited', code, reason });
    this.log.info(`exiting (${reason})`);
    // Until here the arbiter holds its loop itself: hook timeouts are unref'd, and a hook that
    // never settles would otherwise let Node exit with nothing said.
    clearInterval(this.keepAlive);
    this.resolveDone(code);
  }

  // ---- helpers ---------------------------------------------------------------------------

  /** Stopping or done: read through a getter, since the phase changes across awaits. */
  private get stopping(): boolean {
    return this.phase === 'stopping' || this.phase === 'done';
  }

  private liveWorkers(): WorkerProcess[] {
    return [...this.workers.values()].filter((worker) => LIVE_STATES.has(worker.state));
  }

  private ref(worker: WorkerProcess): { id: number; pid: number; generation: number } {
    return { id: worker.id, pid: worker.pid, generation: worker.generation };
  }

  /** What the app sees in PORT: the first TCP port, else the first socket path. */
  private primaryPort(): string {
    const tcp = this.sockets.find((socket) => 'port' in socket.listener);
    if (tcp && 'port' in tcp.listener) return String(tcp.listener.port);
    const first = this.sockets[0]?.listener;
    return first && 'path' in first ? first.path : '';
  }
}

type ReloadRequest = { trigger: string; files?: string[]; rereadConfig?: boolean };

/** Two reload requests as one: the files of both, the config re-read if either asked. */
function foldReload(pending: ReloadRequest | undefined, next: ReloadRequest): ReloadRequest {
  if (!pending) return next;
  const files = [...new Set([...(pending.files ?? []), ...(next.files ?? [])])];
  return {
    trigger: pending.trigger === next.trigger ? next.trigger : `${pending.trigger}, ${next.trigger}`,
    ...(files.length ? { files } : {}),
    rereadConfig: Boolean(pending.rereadConfig || next.rereadConfig),
  };
}

/** The error as a person reads it: its (user-code only) stack, which starts with the message. */
export function formatError(error: ErrorInfo): string {
  if (error.stack) return error.stack;
  const where = error.file
    ? ` (${error.file}${error.line ? `:${error.line}` : ''}${error.line && error.column ? `:${error.column}` : ''})`
    : '';
  return `${error.message}${where}`;
}

/** A cgroup goes once what was killed in it has died (a few milliseconds); the reaper removes what is left at exit. */
function removeWhenEmpty(cgroups: WorkerCgroups, pid: number, tries = 20): void {
  if (cgroups.remove(pid) || tries === 0) return;
  setTimeout(() => removeWhenEmpty(cgroups, pid, tries - 1), 50).unref();
}

/** Resolves once every worker accepts no more connections, or after `ms`. */
async function closedWithin(workers: readonly WorkerProcess[], ms: number): Promise<void> {
  if (workers.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([Promise.all(workers.map((worker) => worker.whenClosed)), timeout]);
  clearTimeout(timer);
}
