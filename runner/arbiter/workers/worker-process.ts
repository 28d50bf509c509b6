/**
 * One worker process as the arbiter sees it: the child, its control channel, its output and
 * its bookkeeping (state, deadlines, open hook runs). Policy — when to spawn, stop or kill —
 * lives in the arbiter; this class only does what it is told and reports what happens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { LineSplitter, MAX_LINE_LENGTH } from '../../protocol/line-splitter';
import { OpenHookRuns } from './open-hook-runs';
import { WorkerDeadlines, type DeadlineSettings, type Expiry } from './worker-deadlines';
import {
  CONTROL_FD,
  parseWorkerMessage,
  type ArbiterMessage,
  type WorkerBootProfile,
  type WorkerMessage,
} from '../../protocol/control';
import type { ErrorInfo, InFlightRequest, WorkerState } from '../../protocol/events';

/** Which worker runtime starts the app: ours for Node, or ours for Python on the user's interpreter. */
export type WorkerRuntime = { kind: 'node' } | { kind: 'python'; interpreter: string };

export type WorkerChildOptions = {
  /** The app, shown in the worker's command line so `ps` says what each worker runs. */
  app: string;
  /** What followed APP on the arbiter's command line: the app's own arguments (Node apps). */
  args: readonly string[];
  /** Node flags for the app beyond the arbiter's own (tsx's loaders for a TypeScript app). */
  nodeFlags: readonly string[];
  runtime: WorkerRuntime;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Listening fds, passed as fds 4, 5, ... */
  listenFds: number[];
};

export type WorkerOptions = {
  id: number;
  generation: number;
  /** The process, spawned by `spawnWorkerChild` (just now, or ahead of time as a standby). */
  child: ChildProcess;
  onMessage: (worker: WorkerProcess, message: WorkerMessage) => void;
  onInvalidMessage: (worker: WorkerProcess, error: string) => void;
  /** The worker broke the control protocol beyond a skipped line (an endless line): it must go. */
  onProtocolError: (worker: WorkerProcess, error: string) => void;
  onOutput: (worker: WorkerProcess, stream: 'stdout' | 'stderr', line: string) => void;
  onExit: (worker: WorkerProcess, code: number | null, signal: NodeJS.Signals | null) => void;
  /** The settings its deadlines are made of, read as each is armed. */
  deadlineSettings: () => DeadlineSettings;
  /** One of its deadlines ran out (worker-deadlines.ts). */
  onDeadline: (worker: WorkerProcess, expiry: Expiry) => void;
  /** Its control channel closed while the process runs on: the app closed fd 3. */
  onChannelLost: (worker: WorkerProcess) => void;
};

/** The bundled Node worker runtime, next to the CLI bundle. */
export const NODE_WORKER_ENTRY = join(__dirname, 'worker.js');
/** The Python worker runtime, copied beside it by the build. */
export const PYTHON_WORKER_ENTRY = join(__dirname, 'python', 'worker.py');
/**
 * After a worker's exit, how long its control channel may take to deliver what is left in it.
 * It normally closes with the process; a grandchild that inherited it could hold it open.
 */
const CONTROL_DRAIN_MS = 200;
/** Lines of stderr kept to explain a crash. */
const STDERR_TAIL = 20;
/** An app's output line longer than this reaches the terminal in pieces: no line costs more. */
const OUTPUT_LINE_MAX = 64 * 1024;

/**
 * Starts the worker runtime, which waits for its boot message before it loads anything of the
 * app. Its own process group (detached): the terminal's Ctrl+C reaches the arbiter alone, and
 * the whole tree the worker starts can be signalled at once.
 */
export function spawnWorkerChild(options: WorkerChildOptions): ChildProcess {
  const [command, args] =
    options.runtime.kind === 'python'
      ? [options.runtime.interpreter, ['-u', PYTHON_WORKER_ENTRY, options.app]]
      : // The runtime takes its own entry out of process.argv: the app sees `node APP ARGS`.
        [
          process.execPath,
          [...process.execArgv, ...options.nodeFlags, NODE_WORKER_ENTRY, options.app, ...options.args],
        ];
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', ...options.listenFds],
    detached: true,
  });
  child.once('error', () => {
    // spawn failed (ENOMEM, EAGAIN): reported through 'exit' with no pid; nothing else to do.
  });
  return child;
}

/** Whether the process has exited (its 'exit' event may still be on its way). */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

export class WorkerProcess {
  readonly id: number;
  readonly generation: number;
  readonly child: ChildProcess;
  /** When it became this worker (a standby's process may be older). */
  readonly spawnedAt = Date.now();
  state: WorkerState = 'booting';
  readyAt: number | undefined;
  /** What its boot took, as its runtime measured it (sent with its ready). */
  bootProfile: WorkerBootProfile | undefined;
  /** Set when it was killed on request rather than at a deadline: why. */
  killRequest: string | undefined;
  /** Why it asked to be replaced (max-requests); it leaves once its replacement is ready. */
  retiring: string | undefined;
  /** What keeps it alive after its shutdown finished, as it last said. */
  lingering: string[] | undefined;
  /** The requests it was serving as its drain last reported them (`at`: when that came, epoch ms). */
  lastRequests: { requests: InFlightRequest[]; total: number; at: number } | undefined;
  readonly stderrTail: string[] = [];
  /** Hook runs started in the worker and not yet ended. */
  readonly hookRuns = new OpenHookRuns();
  /** Its boot, heartbeat and stop deadlines, which wait while it is paused in a debugger. */
  readonly deadlines: WorkerDeadlines;
  private stats = { served: 0, inflight: 0 };
  private boot: { error: ErrorInfo | undefined; reported: boolean } = { error: undefined, reported: false };
  exited = false;
  readonly whenExited: Promise<void>;
  /** Resolves once it accepts no more connections: it said so (`closed`), or its process exited. */
  readonly whenClosed: Promise<void>;
  private resolveClosed!: () => void;

  constructor(options: WorkerOptions) {
    this.id = options.id;
    this.generation = options.generation;
    this.child = options.child;
    this.deadlines = new WorkerDeadlines(options.deadlineSettings, (expiry) =>
      options.onDeadline(this, expiry),
    );
    let resolveExit: () => void;
    this.whenExited = new Promise((resolve) => (resolveExit = resolve));
    this.whenClosed = new Promise((resolve) => (this.resolveClosed = resolve));
    void this.whenExited.then(() => this.resolveClosed());
    const control = this.child.stdio[CONTROL_FD] as Readable & Writable;
    // What the worker wrote just before it exited (a hook's end) may still be in the pipe when
    // the exit is reported: it is read first, so the exit is the worker's last word.
    const controlDone = new Promise<void>((resolve) => control.once('close', () => resolve()));
    // A channel normally closes with its process; one that closed and whose process is still
    // running a moment later was closed by the app.
    control.once('close', () => {
      if (this.exited) return;
      const check = setTimeout(() => this.exited || options.onChannelLost(this), CONTROL_DRAIN_MS);
      this.child.once('exit', () => clearTimeout(check));
    });
    this.child.once('exit', (code, signal) => {
      this.exited = true;
      this.deadlines.over();
      let timer: NodeJS.Timeout | undefined;
      const drained = new Promise<void>((resolve) => (timer = setTimeout(resolve, CONTROL_DRAIN_MS)));
      void Promise.race([controlDone, drained]).then(() => {
        clearTimeout(timer);
        options.onExit(this, code, signal);
        resolveExit();
      });
    });

    control.setEncoding('utf8');
    const lines = new LineSplitter(
      (line) => {
        if (!line) return;
        const parsed = parseWorkerMessage(line);
        if (parsed.ok) options.onMessage(this, parsed.value);
        else options.onInvalidMessage(this, parsed.error);
      },
      {
        onTooLong: () =>
          options.onProtocolError(this, `a control line over ${MAX_LINE_LENGTH / 1024 / 1024} MiB`),
      },
    );
    control.on('data', (chunk: string) => lines.push(chunk));
    control.on('error', () => undefined); // EPIPE when the worker is gone; 'exit' reports that

    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = this.child[stream];
      if (!readable) continue;
      readable.setEncoding('utf8');
      const output = new LineSplitter(
        (line) => {
          if (stream === 'stderr') {
            this.stderrTail.push(line);
            if (this.stderrTail.length > STDERR_TAIL) this.stderrTail.shift();
          }
          options.onOutput(this, stream, line);
        },
        { maxLength: OUTPUT_LINE_MAX },
      );
      readable.on('data', (chunk: string) => output.push(chunk));
      readable.on('end', () => output.flush());
    }
  }

  /** Why it could not boot: what the runtime said, else what the arbiter saw first. */
  get bootError(): ErrorInfo | undefined {
    return this.boot.error;
  }

  /** The runtime itself reported why (a boot-error or fatal message), rather than the arbiter inferring it. */
  get bootErrorReported(): boolean {
    return this.boot.reported;
  }

  /** Records why it failed to boot; the first reason stands. `reported`: the runtime said so. */
  failedToBoot(error: ErrorInfo, reported: boolean): void {
    this.boot = { error: this.boot.error ?? error, reported: this.boot.reported || reported };
  }

  /** Its request counters from a heartbeat; whether they changed. */
  noteStats(served: number, inflight: number): boolean {
    if (served === this.stats.served && inflight === this.stats.inflight) return false;
    this.stats = { served, inflight };
    return true;
  }

  /** The worker said it accepts no more connections. */
  markClosed(): void {
    this.resolveClosed();
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  send(message: ArbiterMessage): void {
    const control = this.child.stdio[CONTROL_FD] as Writable | null;
    if (!this.exited && control?.writable) control.write(`${JSON.stringify(message)}\n`);
  }

  /** Signals the worker process itself. Returns false if it is already gone. */
  signal(signal: NodeJS.Signals): boolean {
    if (this.exited || !this.pid) return false;
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** Signals the worker's whole process group: the worker and everything it started. */
  signalGroup(signal: NodeJS.Signals): boolean {
    if (!this.pid) return false;
    try {
      process.kill(-this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}
