/**
 * How worker processes are made and kept: cold or taken from the standbys, contained before
 * they can start anything (containment/), and what each one's boot message says — the runtime
 * and its flags, the environment (PORT, the containment mark), the listening fds, the build the
 * generation runs. The arbiter decides when; this knows how.
 */
import type { ChildProcess } from 'node:child_process';
import type { Settings } from '../../config/settings';
import type { BootMessage } from '../../protocol/control';
import type { PythonRuntime } from '../arbiter-options';
import { Containment } from '../containment/containment';
import type { GenerationBuilds } from '../generations/generation-builds';
import type { Reporter } from '../reporter';
import { primaryPort, type BoundSocket } from '../sockets';
import { bootMessage } from './boot-message';
import { describeSpawnFailure } from './exit-reasons';
import { StandbyPool } from './standby-pool';
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

export class WorkerSpawner {
  readonly containment = new Containment();
  /** Worker processes started ahead of the next cycle (`standby` setting). */
  private readonly standby: StandbyPool | undefined;
  /** tsx's loaders, for an app whose command line names TypeScript (typescript-runtime.ts). */
  private readonly nodeFlags: string[];

  constructor(private readonly options: WorkerSpawnerOptions) {
    const { settings, python, appArgs, report } = options;
    this.nodeFlags = !python && runsTypeScript(settings().app, appArgs) ? tsxFlags() : [];
    if (!settings().standby) return;
    this.standby = new StandbyPool({
      spawn: () => this.cold(),
      onStarted: (pid) => report.standbyStarted(pid),
      onEnded: (pid, died) => {
        this.containment.release(pid); // nothing of the app ever ran in it
        report.standbyEnded(pid, died);
      },
      onGaveUp: (reason) =>
        report.log.warn(`${reason}: workers start cold from now on (--no-standby silences this)`),
    });
  }

  /** Processes handed out from the standbys (the rest were started when taken). */
  private readonly fromStandby = new WeakSet<ChildProcess>();

  /** A worker process: a standby, else one started now; no pid when none could start. */
  take(): ChildProcess {
    const standby = this.standby?.take();
    if (!standby) return this.cold();
    this.fromStandby.add(standby);
    return standby;
  }

  /** Whether `child` was a standby, started ahead (warm), rather than when it was needed (cold). */
  wasStandby(child: ChildProcess): boolean {
    return this.fromStandby.has(child);
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

  /** Starts a worker process, contained before it can start anything. */
  private cold(): ChildProcess {
    const { python, sockets } = this.options;
    const child = spawnWorkerChild({
      app: this.options.settings().app,
      args: this.options.appArgs,
      nodeFlags: this.nodeFlags,
      runtime: python ? { kind: 'python', interpreter: python.interpreter.executable } : { kind: 'node' },
      cwd: this.options.cwd,
      env: { ...process.env, PORT: primaryPort(sockets), ...this.containment.env },
      listenFds: sockets.map((socket) => socket.fd),
    });
    if (child.pid) this.containment.hold(child.pid);
    return child;
  }
}
