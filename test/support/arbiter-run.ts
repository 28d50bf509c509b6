/**
 * Runs the built CLI as a real process and follows its event stream (over an inherited pipe),
 * so tests wait on what the arbiter reports, each wait bounded by a deadline. Every process a
 * run starts — the arbiter and every worker group it reported — is killed by `cleanup()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { LineSplitter } from '../../runner/protocol/line-splitter';
import {
  parseEvent,
  type ArbiterEvent,
  type ArbiterEventType,
  type EventOf,
} from '../../runner/protocol/events';

export const ROOT = resolve(__dirname, '../..');
export const CLI = resolve(ROOT, 'out/runner/cli.js');
export const FIXTURES = resolve(ROOT, 'test/fixtures');
const DEFAULT_DEADLINE_MS = 15_000;

export type ArbiterRunOptions = {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stdin?: 'ignore' | 'pipe';
  /** In a process group of its own, as the extension starts it: `killGroup()` is its Force Stop. */
  detached?: boolean;
  /** Run as another local user (the test runs as root). */
  user?: { uid: number; gid: number };
  /** A command that execs the arbiter, such as `['prlimit', '--nofile=64:64', '--']`. */
  wrapper?: string[];
  /** The arbiter's stdout and stderr go to this file (appended) rather than to `output`. */
  outputFile?: string;
  /** Passed as fds 4, 5, …: a pipe (read from `child.stdio[N]`, or not), or an fd of the test's. */
  extraFds?: ('pipe' | 'ignore' | number)[];
  /** Another build's CLI, such as one unpacked from a .vsix (default: out/runner/cli.js). */
  cli?: string;
};

type Waiter = { test: (event: ArbiterEvent) => boolean; resolve: (event: ArbiterEvent) => void };

export class ArbiterRun {
  readonly events: ArbiterEvent[] = [];
  readonly invalidLines: string[] = [];
  output = '';
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters = new Set<Waiter>();
  private readonly outputWaiters = new Set<() => void>();
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(args: readonly string[], options: ArbiterRunOptions = {}) {
    const [command, ...prefix] = [...(options.wrapper ?? []), process.execPath];
    const output = options.outputFile === undefined ? 'pipe' : openSync(options.outputFile, 'a');
    this.child = spawn(command, [...prefix, options.cli ?? CLI, '--events', '/dev/fd/3', ...args], {
      cwd: options.cwd ?? FIXTURES,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: [options.stdin ?? 'ignore', output, output, 'pipe', ...(options.extraFds ?? [])],
      detached: options.detached ?? false,
      ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
    });
    if (typeof output === 'number') closeSync(output);
    const lines = new LineSplitter(
      (line) => {
        if (!line) return;
        const parsed = parseEvent(line);
        if (!parsed.ok) return void this.invalidLines.push(`${parsed.error}: ${line}`);
        this.events.push(parsed.value);
        for (const waiter of this.waiters) {
          if (waiter.test(parsed.value)) {
            this.waiters.delete(waiter);
            waiter.resolve(parsed.value);
          }
        }
      },
      // An event carrying a long error may pass the splitter's usual limit; the arbiter is trusted.
      { maxLength: Number.POSITIVE_INFINITY },
    );
    const stream = this.child.stdio[3] as Readable;
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => lines.push(chunk));
    for (const out of [this.child.stdout, this.child.stderr]) {
      if (!out) continue;
      out.setEncoding('utf8');
      out.on('data', (chunk: string) => {
        this.output += chunk;
        for (const check of this.outputWaiters) check();
      });
    }
    this.exited = new Promise((resolveExit) =>
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolveExit(this.exitInfo);
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The first event of `type` matching `test` — already seen or still to come — within the deadline. */
  waitFor<T extends ArbiterEventType>(
    type: T,
    test: (event: EventOf<T>) => boolean = () => true,
    deadlineMs = DEFAULT_DEADLINE_MS,
  ): Promise<EventOf<T>> {
    const matches = (event: ArbiterEvent): boolean => event.type === type && test(event as EventOf<T>);
    const seen = this.events.find(matches);
    if (seen) return Promise.resolve(seen as EventOf<T>);
    return this.waitForNext(type, test, deadlineMs);
  }

  /** Like waitFor, but only events that arrive from now on count. */
  waitForNext<T extends ArbiterEventType>(
    type: T,
    test: (event: EventOf<T>) => boolean = () => true,
    deadlineMs = DEFAULT_DEADLINE_MS,
  ): Promise<EventOf<T>> {
    return new Promise((resolveWait, reject) => {
      const waiter: Waiter = {
        test: (event) => event.type === type && test(event as EventOf<T>),
        resolve: (event) => {
          clearTimeout(timer);
          resolveWait(event as EventOf<T>);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(
            `no ${type} event matching ${test.toString()} within ${deadlineMs} ms\n--- output ---\n${this.output}`,
          ),
        );
      }, deadlineMs);
      this.waiters.add(waiter);
    });
  }

  /** Waits until the arbiter's output (stdout and stderr) matches `pattern`. */
  waitForOutput(pattern: RegExp, deadlineMs = DEFAULT_DEADLINE_MS): Promise<void> {
    return new Promise((resolveWait, reject) => {
      const check = () => {
        if (!pattern.test(this.output)) return;
        this.outputWaiters.delete(check);
        clearTimeout(timer);
        resolveWait();
      };
      const timer = setTimeout(() => {
        this.outputWaiters.delete(check);
        reject(new Error(`no output matching ${pattern} within ${deadlineMs} ms\n${this.output}`));
      }, deadlineMs);
      this.outputWaiters.add(check);
      check();
    });
  }

  /** Waits until `count` workers of `generation` are ready; returns them. */
  async ready(
    count: number,
    generation = 1,
    deadlineMs = DEFAULT_DEADLINE_MS,
  ): Promise<EventOf<'worker.state'>[]> {
    const isReady = (event: EventOf<'worker.state'>) =>
      event.state === 'ready' && event.generation === generation;
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const ready = this.all('worker.state').filter(isReady);
      if (ready.length >= count) return ready;
      const seen = new Set(ready.map((event) => event.id));
      await this.waitForNext(
        'worker.state',
        (event) => isReady(event) && !seen.has(event.id),
        Math.max(1, deadline - Date.now()),
      );
    }
  }

  all<T extends ArbiterEventType>(type: T): EventOf<T>[] {
    return this.events.filter((event) => event.type === type) as EventOf<T>[];
  }

  /** The TCP port of the first listener. */
  async port(): Promise<number> {
    const started = await this.waitFor('arbiter.started');
    const listener = started.listeners.find((l) => 'port' in l);
    if (!listener || !('port' in listener)) throw new Error('no TCP listener');
    return listener.port;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGKILL to the arbiter's whole process group (it must have been started `detached`). */
  killGroup(): void {
    process.kill(-this.pid, 'SIGKILL');
  }

  /** Waits for the arbiter to exit within the deadline. */
  async waitExit(
    deadlineMs = DEFAULT_DEADLINE_MS,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`arbiter still running after ${deadlineMs} ms\n${this.output}`)),
        deadlineMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Pids of every worker the arbiter reported spawning. */
  workerPids(): number[] {
    return this.all('worker.spawned').map((event) => event.pid);
  }

  /** Pids of the standbys waiting now (started, neither ended nor become workers). */
  idleStandbys(): number[] {
    const gone = new Set([
      ...this.workerPids(),
      ...this.all('standby')
        .filter((event) => event.phase === 'ended')
        .map((event) => event.pid),
    ]);
    return this.all('standby')
      .filter((event) => event.phase === 'started' && !gone.has(event.pid))
      .map((event) => event.pid);
  }

  /** Waits until `count` standbys wait; returns their pids. */
  async standbys(count: number, deadlineMs = DEFAULT_DEADLINE_MS): Promise<number[]> {
    const deadline = Date.now() + deadlineMs;
    while (this.idleStandbys().length < count) {
      await this.waitForNext('standby', () => true, Math.max(1, deadline - Date.now()));
    }
    return this.idleStandbys();
  }

  /** Kills the arbiter and every worker group it reported, and waits for the arbiter to be gone. */
  async cleanup(): Promise<void> {
    if (!this.exitInfo) this.child.kill('SIGKILL');
    const arbiters = this.all('arbiter.started').map((event) => event.pid);
    for (const pid of arbiters.filter((pid) => pid !== this.child.pid && isAlive(pid)))
      process.kill(pid, 'SIGKILL');
    const standbys = this.all('standby').map((event) => event.pid);
    for (const pid of [...this.workerPids(), ...standbys]) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await this.exited;
  }
}

/** Starts an arbiter and registers its cleanup with the test. */
export function startArbiter(
  t: { after: (fn: () => Promise<void>) => void },
  args: readonly string[],
  options?: ArbiterRunOptions,
): ArbiterRun {
  const run = new ArbiterRun(args, options);
  t.after(() => run.cleanup());
  return run;
}

/**
 * Whether a process still runs. A zombie does not: it has exited and holds nothing, and only
 * waits for its parent (for an orphan, PID 1, which may reap late) to collect its status.
 * But /proc shows a process as a zombie as soon as its main thread has exited, and after a
 * SIGKILL each thread ends on its own, the last one unmapping the memory and closing the files
 * (a Node process has a dozen threads and a big heap; under load they wait for a CPU): until it
 * has, the sockets are still open. So a zombie with threads left in /proc/PID/task still runs.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const zombie = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
    return !zombie || readdirSync(`/proc/${pid}/task`).length > 1;
  } catch {
    return false; // gone between the checks
  }
}

/** A process's resident memory now, in MiB (VmRSS in /proc/PID/status). */
export function rssMiB(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) / 1024;
}

/** Resolves once every pid is gone, with how long that took; rejects after the deadline. */
export async function waitGone(pids: number[], deadlineMs: number): Promise<number> {
  let alive: number[] = [];
  return waitUntil(
    () => (alive = pids.filter(isAlive)).length === 0,
    deadlineMs,
    () => `still alive after ${deadlineMs} ms: ${alive.join(', ')}`,
  );
}

/**
 * Resolves once `done()` holds, with how long that took; rejects after the deadline. For what
 * nothing reports to the test (the death of a process it did not spawn, a folder another
 * process removes), so this checks at a fine grain until the deadline: it measures a
 * deadline, it does not wait for one.
 */
export async function waitUntil(
  done: () => boolean,
  deadlineMs: number,
  what: string | (() => string),
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (done()) return Date.now() - started;
    if (Date.now() - started > deadlineMs)
      throw new Error(typeof what === 'string' ? `not ${what} within ${deadlineMs} ms` : what());
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
