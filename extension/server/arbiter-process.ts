/**
 * One arbiter started by the extension: the runner's CLI under the user's Node, its event
 * stream on a pipe (fd 3), its output for the terminal. Its lifetime is a promise (`exited`).
 *
 * It runs in its own process group, so signals from the extension reach it alone. Its stdin is
 * the extension's command pipe (`--stdin-commands`: kill this worker, kill that generation),
 * and with `--stop-on-stdin-close`, if the extension host dies without stopping it, the closed
 * pipe stops it gracefully: a server never outlives the window that started it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { ArbiterCommand } from '../../runner/protocol/commands';
import { parseEvent, type ArbiterEvent } from '../../runner/protocol/events';
import { LineSplitter } from '../../runner/protocol/line-splitter';

export type ArbiterProcessOptions = {
  node: string;
  cli: string;
  cwd: string;
  /** Options for the CLI, and the app last. */
  args: string[];
  env?: NodeJS.ProcessEnv;
  onEvent: (event: ArbiterEvent) => void;
  /** A line the stream could not parse: reported, never fatal. */
  onBadLine: (error: string) => void;
  /** The arbiter's own output, as written (the terminal shows it). */
  onOutput: (text: string) => void;
};

export type ArbiterExit = { code: number | null; signal: NodeJS.Signals | null; error?: Error };

export class ArbiterProcess {
  private readonly child: ChildProcess;
  readonly exited: Promise<ArbiterExit>;
  private exit: ArbiterExit | undefined;

  constructor(options: ArbiterProcessOptions) {
    this.child = spawn(
      options.node,
      [options.cli, '--events', '/dev/fd/3', '--stdin-commands', '--stop-on-stdin-close', ...options.args],
      {
        cwd: options.cwd,
        env: { ...process.env, FORCE_COLOR: '1', ...options.env },
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
        detached: true,
      },
    );
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        this.exit = { code: null, signal: null, error };
        resolve(this.exit);
      });
      this.child.once('exit', (code, signal) => {
        this.exit ??= { code, signal };
        resolve(this.exit);
      });
    });
    const lines = new LineSplitter((line) => {
      if (!line) return;
      const parsed = parseEvent(line);
      if (parsed.ok) options.onEvent(parsed.value);
      else options.onBadLine(parsed.error);
    });
    const events = this.child.stdio[3] as Readable;
    events.setEncoding('utf8');
    events.on('data', (chunk: string) => lines.push(chunk));
    events.on('end', () => lines.flush());
    for (const stream of [this.child.stdout, this.child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => options.onOutput(chunk));
    }
    this.child.stdin?.on('error', () => undefined); // EPIPE once it is gone
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Signals the arbiter (never its workers directly: it decides what a signal means). */
  signal(signal: NodeJS.Signals): boolean {
    if (!this.running || !this.child.pid) return false;
    try {
      process.kill(this.child.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** Asks the arbiter to act on a worker or generation (it reports what it did as events). */
  command(command: ArbiterCommand): boolean {
    if (!this.running || !this.child.stdin?.writable) return false;
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
    return true;
  }

  /** Kills the arbiter's process group; its orphan reaper takes the workers down. */
  kill(): void {
    if (!this.child.pid) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
