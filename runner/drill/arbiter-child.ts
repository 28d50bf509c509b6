/**
 * One arbiter the drill runs: this same CLI, bound to 127.0.0.1 on a free port, reloading only
 * when told (SIGHUP), its event stream read from a pipe. In a process group of its own, so that
 * a Ctrl+C meant for the drill is the drill's to act on, and `--stop-on-stdin-close`, so that
 * it stops gracefully should the drill die.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { ArbiterEvent } from '../protocol/events';
import { parseEvent } from '../protocol/events';
import { LineSplitter } from '../protocol/line-splitter';

type Waiter = { test: (event: ArbiterEvent) => boolean; resolve: (event: ArbiterEvent | undefined) => void };

export class ArbiterChild {
  readonly events: ArbiterEvent[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<Waiter>();
  private ended = false;

  constructor(cli: string, arbiterArgs: readonly string[], cwd: string) {
    const args = [cli, '--events', '/dev/fd/3', '-b', '127.0.0.1:0', '--no-reload', '--stop-on-stdin-close'];
    this.child = spawn(process.execPath, [...args, ...arbiterArgs], {
      cwd,
      stdio: ['pipe', 'inherit', 'inherit', 'pipe'],
      detached: true,
    });
    const lines = new LineSplitter((line) => this.onLine(line), { maxLength: Number.POSITIVE_INFINITY });
    const stream = this.child.stdio[3] as Readable;
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => lines.push(chunk));
    const streamEnded = new Promise<void>((resolve) => stream.once('close', resolve));
    this.exited = new Promise<number | null>((resolve) =>
      this.child.once('exit', (code) => resolve(code)),
    ).then(async (code) => {
      await streamEnded; // every event it wrote is read
      this.ended = true;
      for (const waiter of this.waiters) waiter.resolve(undefined);
      this.waiters.clear();
      return code;
    });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** Kills its whole group: the drill ran out of time. */
  killAll(): void {
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** The first event (seen or to come) that passes `test`; undefined if the arbiter exits first. */
  next(test: (event: ArbiterEvent) => boolean, from = 0): Promise<ArbiterEvent | undefined> {
    const seen = this.events.slice(from).find(test);
    if (seen || this.ended) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.add({ test, resolve }));
  }

  private onLine(line: string): void {
    if (!line) return;
    const parsed = parseEvent(line);
    if (!parsed.ok) return;
    this.events.push(parsed.value);
    for (const waiter of this.waiters)
      if (waiter.test(parsed.value)) {
        this.waiters.delete(waiter);
        waiter.resolve(parsed.value);
      }
  }
}
