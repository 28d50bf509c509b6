/**
 * Reports worker-side hook runs to the arbiter: a `start` when a hook begins and an `end`
 * with its outcome and duration. A run still open when the process exits is closed from the
 * `exit` event, synchronously, so the arbiter always learns how each hook ended.
 */
import type { HookOutcome } from '../protocol/events';
import type { WorkerMessage } from '../protocol/control';

type OpenRun = { name: string; startedAt: number; endsAtExit: boolean; executing: boolean };

export class HookReporter {
  private nextRun = 1;
  private readonly open = new Map<number, OpenRun>();
  private readonly settledWaiters = new Set<() => void>();

  constructor(private readonly send: (message: WorkerMessage) => void) {}

  start(name: string): number {
    const run = this.nextRun++;
    this.open.set(run, { name, startedAt: performance.now(), endsAtExit: false, executing: false });
    this.send({ type: 'hook', run, name, phase: 'start' });
    return run;
  }

  end(run: number, outcome: HookOutcome, error?: unknown): void {
    const entry = this.open.get(run);
    if (!entry) return;
    this.open.delete(run);
    const durationMs = Math.round((performance.now() - entry.startedAt) * 10) / 10;
    const message =
      error === undefined
        ? undefined
        : error instanceof Error
          ? error.message
          : typeof error === 'string'
            ? error
            : JSON.stringify(error);
    this.send({
      type: 'hook',
      run,
      name: entry.name,
      phase: 'end',
      outcome,
      durationMs,
      ...(message ? { error: message } : {}),
    });
    this.wakeIfSettled();
  }

  /**
   * Runs the synchronous part of a hook. A handler that calls process.exit() from inside ends
   * there, and that is an ordinary way for a signal handler to finish.
   */
  during<T>(run: number, body: () => T): T {
    const entry = this.open.get(run);
    if (entry) entry.executing = true;
    try {
      return body();
    } finally {
      if (entry) entry.executing = false;
    }
  }

  /** A handler that returned without a promise: its work (if any) ends when the process does. */
  endAtExit(run: number): void {
    const entry = this.open.get(run);
    if (entry) entry.endsAtExit = true;
    this.wakeIfSettled();
  }

  /** Resolves once no promise-backed run is open. */
  settled(): Promise<void> {
    if (this.isSettled()) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.add(resolve));
  }

  private isSettled(): boolean {
    return ![...this.open.values()].some((entry) => !entry.endsAtExit);
  }

  private wakeIfSettled(): void {
    if (!this.isSettled()) return;
    for (const resolve of this.settledWaiters) resolve();
    this.settledWaiters.clear();
  }

  /** Called from process 'exit': closes every open run. */
  closeAllAtExit(): void {
    for (const [run, entry] of [...this.open]) {
      this.end(run, entry.endsAtExit || entry.executing ? 'ok' : 'interrupted');
    }
  }
}
