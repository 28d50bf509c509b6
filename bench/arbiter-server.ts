/**
 * The arbiter under test, started through the built CLI exactly as a user would, its event
 * stream followed over an inherited pipe (fd 3). Each event is stamped with the time it
 * arrived here, which is what the reload timings are measured against.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { LineSplitter } from '../runner/protocol/line-splitter';
import { parseEvent, type ArbiterEvent, type EventOf } from '../runner/protocol/events';
import { within } from './deadline';
import { isAlive } from './proc';

export const ROOT = resolve(__dirname, '..');
const CLI = resolve(ROOT, 'out/runner/cli.js');
/** How much of the arbiter's own output is kept to explain a failure. */
const OUTPUT_TAIL = 20_000;

/** An event, and when it arrived here (performance.now()). */
export type Arrival<E extends ArbiterEvent = ArbiterEvent> = { event: E; at: number };

type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** How the CLI is started; the defaults are those of the throughput and HUP measurements. */
export type ArbiterOptions = {
  /** The arbiter's cwd, which is also the watched root [the app's directory]. */
  cwd?: string;
  /** `-b` [127.0.0.1:0]. */
  bind?: string;
  /** Watch the project and cycle on change [false: `--no-reload`]. */
  reload?: boolean;
  /** Own process group, killed as a whole on stop [false]. */
  detached?: boolean;
  /** More options, before APP (e.g. `--python`). */
  args?: string[];
  /** Added to the environment (a real app's database URL, say). */
  env?: NodeJS.ProcessEnv;
};

export class ArbiterServer {
  readonly arrivals: Arrival[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  private output = '';
  private hasExited = false;
  private readonly subscribers = new Set<(arrival: Arrival) => void>();

  private readonly detached: boolean;

  private constructor(app: string, workers: number, options: ArbiterOptions) {
    this.detached = options.detached ?? false;
    this.child = spawn(
      process.execPath,
      [
        CLI,
        '--events',
        '/dev/fd/3',
        '-w',
        String(workers),
        '-b',
        options.bind ?? '127.0.0.1:0',
        options.reload ? '--reload' : '--no-reload',
        ...(options.args ?? []),
        app,
      ],
      {
        cwd: options.cwd ?? resolve(app, '..'),
        env: { ...process.env, NO_COLOR: '1', ...options.env },
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        detached: this.detached,
      },
    );
    this.exited = new Promise((resolveExit) =>
      this.child.once('exit', (code, signal) => {
        this.hasExited = true;
        resolveExit({ code, signal });
      }),
    );
    const lines = new LineSplitter((line) => {
      if (!line) return;
      const parsed = parseEvent(line);
      if (!parsed.ok) return;
      const arrival = { event: parsed.value, at: performance.now() };
      this.arrivals.push(arrival);
      for (const subscriber of this.subscribers) subscriber(arrival);
    });
    const events = this.child.stdio[3] as Readable;
    events.setEncoding('utf8');
    events.on('data', (chunk: string) => lines.push(chunk));
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (this.output = (this.output + chunk).slice(-OUTPUT_TAIL)));
    }
  }

  /** Starts an arbiter with `workers` workers of `app` and waits until all serve. */
  static async start(
    app: string,
    workers: number,
    deadlineMs = 20_000,
    options: ArbiterOptions = {},
  ): Promise<ArbiterServer> {
    const server = new ArbiterServer(app, workers, options);
    try {
      const ready = (arrival: Arrival) =>
        arrival.event.type === 'worker.state' &&
        arrival.event.state === 'ready' &&
        arrival.event.generation === 1;
      let check: (() => void) | undefined;
      await within(
        new Promise<void>((resolveReady, reject) => {
          check = () => {
            if (server.arrivals.filter(ready).length >= workers) resolveReady();
          };
          server.subscribers.add(check);
          void server.exited.then(() => reject(new Error('the arbiter exited while booting')));
        }),
        deadlineMs,
        'arbiter boot',
      ).finally(() => server.subscribers.delete(check!));
      return server;
    } catch (error) {
      await server.stop();
      throw new Error(`${(error as Error).message}\n--- arbiter output ---\n${server.output}`, {
        cause: error,
      });
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The TCP port of the first listener. */
  get port(): number {
    const started = this.all('arbiter.started')[0];
    const listener = started?.listeners.find((l) => 'port' in l);
    if (!listener || !('port' in listener)) throw new Error('the arbiter reported no TCP listener');
    return listener.port;
  }

  all<T extends ArbiterEvent['type']>(type: T): EventOf<T>[] {
    return this.arrivals.filter((a) => a.event.type === type).map((a) => a.event as EventOf<T>);
  }

  /** The next event (from now on) matching `test`, within the deadline. */
  next<T extends ArbiterEvent['type']>(
    type: T,
    test: (event: EventOf<T>) => boolean,
    deadlineMs: number,
  ): Promise<Arrival<EventOf<T>>> {
    let subscriber: ((arrival: Arrival) => void) | undefined;
    const found = new Promise<Arrival<EventOf<T>>>((resolveFound) => {
      subscriber = (arrival) => {
        if (arrival.event.type === type && test(arrival.event as EventOf<T>))
          resolveFound(arrival as Arrival<EventOf<T>>);
      };
      this.subscribers.add(subscriber);
    });
    return within(found, deadlineMs, `waiting for ${type}`)
      .catch((error: Error) => {
        throw new Error(`${error.message}\n--- arbiter output ---\n${this.output}`, { cause: error });
      })
      .finally(() => this.subscribers.delete(subscriber!));
  }

  /** Pids of the workers of `generation`. */
  pidsOf(generation: number): number[] {
    return this.all('worker.spawned')
      .filter((event) => event.generation === generation)
      .map((event) => event.pid);
  }

  /** Pids of every worker spawned and not yet reported exited. */
  livePids(): number[] {
    const gone = new Set(this.all('worker.exited').map((event) => event.pid));
    return this.all('worker.spawned')
      .map((event) => event.pid)
      .filter((pid) => !gone.has(pid));
  }

  /** Requests served so far by each worker, as its last heartbeat reported. */
  servedByPid(): Map<number, number> {
    const served = new Map<number, number>();
    for (const event of this.all('worker.stats')) served.set(event.pid, event.served);
    return served;
  }

  /**
   * Graceful stop (SIGTERM), waiting for the arbiter to exit; if it does not in time, it and
   * every worker group it reported are killed. Either way no process of this run is left.
   */
  async stop(deadlineMs = 15_000): Promise<Exit> {
    if (!this.hasExited) this.child.kill('SIGTERM');
    let exit: Exit;
    try {
      exit = await within(this.exited, deadlineMs, 'arbiter stop');
    } catch {
      this.child.kill('SIGKILL');
      exit = await this.exited;
    }
    const groups = this.all('worker.spawned')
      .map((event) => event.pid)
      .filter((pid) => isAlive(pid));
    // The arbiter's own group may outlive it (its orphan reaper): killed whether or not it is alive.
    if (this.detached && this.child.pid) groups.push(this.child.pid);
    for (const pid of groups) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    return exit;
  }
}
