/**
 * How worker processes are made and kept: cold or taken from the standbys, contained before
 * they can start anything (containment/), and what each one's boot message says — the runtime
 * and its flags, the environment (PORT, the containment mark), the listening fds, the build the
 * generation runs. The arbiter decides when; this knows how.
 */
import type { ChildProcess } from 'node:child_process';
import type { Settings } from '../../config/settings';
import type { BootMessage, DependenciesMessage, PreloadedMessage } from '../../protocol/control';
import type { PythonRuntime } from '../arbiter-options';
import { Containment } from '../containment/containment';
import type { GenerationBuilds } from '../generations/generation-builds';
import type { Reporter, WorkerRef } from '../reporter';
import { primaryPort, type BoundSocket } from '../sockets';
import { bootMessage } from './boot-message';
import { DependencySet } from './dependency-set';
import { describeSpawnFailure } from './exit-reasons';
import { StandbyPool, type PreloadState } from './standby-pool';
import { runsTypeScript, tsxFlags } from './typescript-runtime';
import { spawnWorkerChild } from './worker-process';

export type WorkerSpawnerOptions = {
  cwd: string;
  appArgs: readonly string[];
  python?: PythonRuntime | undefined;
  builds: GenerationBuilds;
  sockets: readonly BoundSocket[];
  report: Reporter;
  /** The settings in force, and the --env-file variables as last read. */
  settings: () => Settings;
  env: () => Readonly<Record<string, string>>;
};

/** Set in a worker's environment where preloading is on: its runtime records the modules it loads. */
const PRELOAD_MARK = 'ARBITER_PRELOAD';

/** What a worker process holds of the app's dependencies as it is taken (`worker.deps`). */
export type TakenDeps =
  { warm: true; modules: number; ms: number } | { warm: false; reason: string } | 'pending';

export class WorkerSpawner {
  readonly containment = new Containment();
  /** Worker processes started ahead of the next cycle (`standby` setting). */
  private readonly standby: StandbyPool | undefined;
  /** tsx's loaders, for an app whose command line names TypeScript (typescript-runtime.ts). */
  private readonly nodeFlags: string[];
  /** The third-party modules standbys preload (`preload` setting), as the serving workers reported them. */
  private readonly dependencies: DependencySet | undefined;
  /** Why the next workers load their dependencies cold, when it is not for lack of a set. */
  private coldBecause: string | undefined;
  /** The --env-file variables the standbys preloaded under: a change makes their modules stale too. */
  private preloadedEnv: string | undefined;

  constructor(private readonly options: WorkerSpawnerOptions) {
    const { settings, python, appArgs, report } = options;
    this.nodeFlags = !python && runsTypeScript(settings().app, appArgs) ? tsxFlags() : [];
    if (!settings().standby) return;
    if (settings().preload) this.dependencies = new DependencySet(options.cwd);
    this.standby = new StandbyPool({
      spawn: () => this.cold(),
      preload: () => this.preloadMessage(),
      onStarted: (pid) => report.standbyStarted(pid),
      onEnded: (pid, died, reason) => {
        this.containment.release(pid); // nothing of the app ever ran in it
        report.standbyEnded(pid, died, reason);
      },
      onPreloaded: (pid, loaded, ms) => report.standbyPreloaded(pid, loaded, ms),
      onPreloadFailed: (pid, failed) => this.preloadFailed(pid, failed),
      onGaveUp: (reason) =>
        report.log.warn(`${reason}: workers start cold from now on (--no-standby silences this)`),
    });
  }

  /** Processes handed out from the standbys (the rest were started when taken). */
  private readonly fromStandby = new WeakSet<ChildProcess>();
  /** How many third-party modules each worker's standby preloaded, by pid (the boot profile's warm deps). */
  private readonly preloadedModules = new Map<number, number>();

  /** A worker process and what it holds of the dependencies: a standby, else one started now (no pid when none could start). */
  take(): { child: ChildProcess; deps: TakenDeps } {
    const taken = this.standby?.take();
    if (!taken)
      return { child: this.cold(), deps: { warm: false, reason: this.coldReason('no standby was ready') } };
    this.fromStandby.add(taken.child);
    const deps = this.depsOf(taken.state);
    if (deps !== 'pending' && deps.warm && taken.child.pid)
      this.preloadedModules.set(taken.child.pid, deps.modules);
    return { child: taken.child, deps };
  }

  /** Whether `child` was a standby, started ahead (warm), rather than when it was needed (cold). */
  wasStandby(child: ChildProcess): boolean {
    return this.fromStandby.has(child);
  }

  /** How many modules the standby that became worker `pid` preloaded, if it did. */
  preloadedBy(pid: number): number | undefined {
    return this.preloadedModules.get(pid);
  }

  /**
   * The worker process `pid` ended: what it left behind is cleaned up (containment.ts), and
   * there is nothing more to tell of it.
   */
  reaped(pid: number, signalGroup: (signal: NodeJS.Signals) => boolean): void {
    this.containment.cleanUpAfter(pid, signalGroup);
    this.preloadedModules.delete(pid);
  }

  /**
   * A worker said which third-party modules it loaded (the set standbys preload from now on),
   * or, taken while its preload ran, how that went (modules that failed are preloaded no more;
   * the app loads them itself, as it would cold).
   */
  workerSaid(worker: WorkerRef, message: DependenciesMessage | PreloadedMessage): void {
    if (message.type === 'dependencies') {
      if (!this.dependencies?.learn(worker.generation, message.modules)) return;
      this.coldBecause = undefined;
      this.standby?.preloadBare();
      return;
    }
    if (message.failed?.length) {
      this.dependencies?.exclude(message.failed.map((failure) => failure.module));
      this.options.report.preloadFailed(worker.pid, message.failed);
    }
    this.preloadedModules.set(worker.pid, message.loaded);
    this.options.report.deps(worker, { warm: true, modules: message.loaded, ms: message.ms });
  }

  /** Tops the standbys up to `count`. */
  fill(count: number): void {
    this.standby?.fill(count);
  }

  /** Stops the standbys and starts no more. */
  async closeStandbys(): Promise<void> {
    await this.standby?.close();
  }

  /** Worker `id`'s boot message; `check`: changed files whose syntax it checks before the app loads. */
  bootMessage(id: number, generation: number, check: readonly string[] | undefined): BootMessage {
    const { builds, sockets } = this.options;
    const facts = {
      id,
      generation,
      app: builds.appOf(generation),
      sourceMaps: builds.built,
      port: primaryPort(sockets),
      sockets: sockets.length,
      env: this.options.env(),
      check,
      python: this.options.python,
      jitter: Math.random(),
    };
    return bootMessage(facts, this.options.settings());
  }

  /** Calls `then` with why `child` could not be started (Node says it on 'error', in the spawn's turn of the loop). */
  whyFailed(child: ChildProcess, then: (message: string) => void): void {
    child.once('error', (error) =>
      then(`cannot start a worker process: ${describeSpawnFailure(error, this.options.cwd)}`),
    );
  }

  private depsOf(state: PreloadState): TakenDeps {
    if (state.kind === 'preloading') return 'pending';
    if (state.kind === 'preloaded') return { warm: true, modules: state.loaded, ms: state.ms };
    return { warm: false, reason: this.coldReason('its standby started before the dependencies were known') };
  }

  private coldReason(otherwise: string): string {
    if (!this.options.settings().preload) return 'preloading is off (--no-preload)';
    if (!this.dependencies) return 'standbys are off (--no-standby)';
    return this.coldBecause ?? (this.dependencies.modules ? otherwise : this.dependencies.coldReason);
  }

  private preloadMessage() {
    const modules = this.dependencies?.modules;
    if (!modules?.length) return undefined;
    const env = this.options.env();
    this.preloadedEnv = JSON.stringify(env);
    return {
      type: 'preload' as const,
      modules: [...modules],
      ...(Object.keys(env).length > 0 ? { env: { ...env } } : {}),
    };
  }

  /**
   * As `generation` starts (beside its build): standbys whose preloaded modules or lockfiles
   * changed on disk since, or whose --env-file variables did, are replaced before it takes any —
   * a module that changed is never served from a preload.
   */
  async checkDependencies(generation: number): Promise<void> {
    if (!this.dependencies) return;
    const envChanged =
      this.preloadedEnv !== undefined && this.preloadedEnv !== JSON.stringify(this.options.env());
    const stale =
      (await this.dependencies.checkStale(generation)) ??
      (envChanged ? 'the --env-file variables changed' : undefined);
    if (!stale) return;
    this.preloadedEnv = undefined;
    this.coldBecause = stale;
    this.options.report.dependenciesChanged(stale);
    this.standby?.discardPreloaded();
  }

  private preloadFailed(pid: number, failed: NonNullable<PreloadedMessage['failed']>): void {
    this.dependencies?.exclude(failed.map((failure) => failure.module));
    this.options.report.preloadFailed(pid, failed);
  }

  /** Starts a worker process, contained before it can start anything. */
  private cold(): ChildProcess {
    const { python, sockets } = this.options;
    const child = spawnWorkerChild({
      app: this.options.settings().app,
      args: this.options.appArgs,
      nodeFlags: this.nodeFlags,
      runtime: python ? { kind: 'python', interpreter: python.interpreter.executable } : { kind: 'node' },
      cwd: this.options.cwd,
      env: {
        ...process.env,
        PORT: primaryPort(sockets),
        ...this.containment.env,
        // The Node runtime's cue to record its modules (the Python runtime records them anyway).
        ...(this.dependencies && !python ? { [PRELOAD_MARK]: '1' } : {}),
      },
      listenFds: sockets.map((socket) => socket.fd),
    });
    if (child.pid) this.containment.hold(child.pid);
    return child;
  }
}
