/**
 * Worker processes started ahead of need. Most of a cold worker's boot is Node's own start-up
 * and the worker runtime's load (~50 ms of CPU each, more when several start at once on few
 * cores); the app itself often loads in a few milliseconds. A standby has done that part
 * already and waits, app not loaded, for its boot message — so a cycle on save costs the app's
 * load alone. Standbys are not workers yet: they have no id, no generation and no events.
 *
 * A standby that dies unused is dropped; if they keep dying (a broken NODE_OPTIONS, a memory
 * limit), the pool gives up and every worker starts cold again, as without it.
 */
import type { ChildProcess } from 'node:child_process';
import { hasExited } from './worker-process';

/** Standbys that die unused, in a row, before the pool stops starting them. */
const MAX_UNUSED_DEATHS = 3;

export type StandbyPoolOptions = {
  spawn: () => ChildProcess;
  /** A standby started (its pid, for the orphan reaper). */
  onStarted: (pid: number) => void;
  /** A standby ended without being used: stopped, or `died` on its own. */
  onEnded: (pid: number, died?: string) => void;
  onGaveUp: (reason: string) => void;
};

export class StandbyPool {
  private readonly idle = new Map<
    ChildProcess,
    (code: number | null, signal: NodeJS.Signals | null) => void
  >();
  private deaths = 0;
  private gaveUp = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: StandbyPoolOptions) {}

  /** A standby to become a worker, or none: the caller then starts one cold. */
  take(): ChildProcess | undefined {
    for (const [child, onExit] of this.idle) {
      this.idle.delete(child);
      child.off('exit', onExit);
      if (hasExited(child)) continue;
      this.deaths = 0; // it lived until it was needed
      return child;
    }
    return undefined;
  }

  /** Starts standbys until `count` wait, or stops the extra ones. */
  fill(count: number): void {
    while (this.idle.size > count) void this.discard(this.idle.keys().next().value!);
    while (!this.gaveUp && !this.closing && this.idle.size < count) {
      const child = this.options.spawn();
      const pid = child.pid;
      // Not started now (the project folder gone for a moment, no fds left): the next fill tries
      // again; a cold start meanwhile reports why.
      if (!pid) return;
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        this.idle.delete(child);
        const reason = signal ? `killed by ${signal}` : `exited with code ${code}`;
        this.options.onEnded(pid, reason);
        if (++this.deaths >= MAX_UNUSED_DEATHS) this.giveUp(`standby workers keep dying unused (${reason})`);
      };
      child.once('exit', onExit);
      this.idle.set(child, onExit);
      this.options.onStarted(pid);
    }
  }

  /** Stops every standby and starts no more; resolves once all are gone (every caller waits). */
  close(): Promise<void> {
    this.closing ??= Promise.all([...this.idle.keys()].map((child) => this.discard(child))).then(
      () => undefined,
    );
    return this.closing;
  }

  /** Kills a standby (nothing of the app runs in it yet, so nothing is lost). */
  private discard(child: ChildProcess): Promise<void> {
    const onExit = this.idle.get(child);
    this.idle.delete(child);
    if (onExit) child.off('exit', onExit);
    if (hasExited(child)) return Promise.resolve();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => this.options.onEnded(child.pid ?? 0));
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
    return exited;
  }

  private giveUp(reason: string): void {
    if (this.gaveUp) return;
    this.gaveUp = true;
    this.options.onGaveUp(reason);
  }
}
