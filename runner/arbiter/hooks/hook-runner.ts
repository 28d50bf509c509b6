/**
 * Runs the arbiter-side hooks from the config file. Each run is a `hook` start and end event
 * with outcome and duration; a hook that throws or outlives its timeout is reported and the
 * arbiter goes on — a broken hook must never take the server down.
 */
import type { ArbiterHooks, HookName } from '../../config/hooks';
import { userStack } from '../../errors/error-location';
import type { EventSink } from '../../log/event-sink';
import type { Logger } from '../../log/logger';

/** A hook that has not settled by then is reported as timed out and no longer waited for. */
export const HOOK_TIMEOUT_MS = 30_000;

export class HookRunner {
  constructor(
    private hooks: ArbiterHooks,
    private readonly events: EventSink,
    private readonly log: Logger,
  ) {}

  /** Runs not yet ended, each with what gives up waiting for it. */
  private readonly running = new Map<Promise<void>, () => void>();

  /**
   * Resolves once every hook run started so far has ended, or at `deadlineMs`: runs still going
   * then are reported as timed out and no longer waited for (a stopping arbiter must not wait
   * for a hook that never settles any longer than that).
   */
  async idle(deadlineMs = HOOK_TIMEOUT_MS): Promise<void> {
    const deadline = setTimeout(() => {
      for (const abandon of this.running.values()) abandon();
    }, deadlineMs);
    while (this.running.size > 0) await Promise.all(this.running.keys());
    clearTimeout(deadline);
  }

  replace(hooks: ArbiterHooks): void {
    this.hooks = hooks;
  }

  /** Runs `name` if the config defines it; resolves when it settled or timed out, never rejects. */
  run<K extends HookName>(name: K, ...args: Parameters<NonNullable<ArbiterHooks[K]>>): Promise<void> {
    const hook = this.hooks[name] as ((...a: unknown[]) => unknown) | undefined;
    if (!hook) return Promise.resolve();
    let abandon!: () => void;
    const abandoned = new Promise<'abandoned'>((resolve) => (abandon = () => resolve('abandoned')));
    const run = this.runOne(name, hook, args, abandoned);
    this.running.set(run, abandon);
    void run.finally(() => this.running.delete(run));
    return run;
  }

  private async runOne(
    key: HookName,
    hook: (...a: unknown[]) => unknown,
    args: unknown[],
    abandoned: Promise<'abandoned'>,
  ): Promise<void> {
    const pid = process.pid;
    // gunicorn.conf.py's hooks are reported under gunicorn's names.
    const name = (hook as { label?: string }).label ?? key;
    this.events.emit({ type: 'hook', scope: 'arbiter', pid, name, phase: 'start' });
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), HOOK_TIMEOUT_MS);
      timer.unref();
    });
    let outcome: 'ok' | 'error' | 'timeout';
    let error: string | undefined;
    try {
      const settled = await Promise.race([
        Promise.resolve()
          .then(() => hook(...args))
          .then(() => 'ok' as const),
        timeout,
        abandoned,
      ]);
      outcome = settled === 'abandoned' ? 'timeout' : settled;
      if (settled === 'timeout') error = `did not finish within ${HOOK_TIMEOUT_MS / 1000} s`;
      if (settled === 'abandoned')
        error = `still running when the arbiter stopped, after ${Math.round(performance.now() - started)} ms`;
    } catch (thrown) {
      outcome = 'error';
      error =
        thrown instanceof Error
          ? (userStack(thrown.stack)?.replace(/\?load=\d+/g, '') ?? thrown.message)
          : String(thrown);
    } finally {
      clearTimeout(timer);
    }
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    this.events.emit({
      type: 'hook',
      scope: 'arbiter',
      pid,
      name,
      phase: 'end',
      outcome,
      durationMs,
      ...(error ? { error } : {}),
    });
    if (outcome !== 'ok')
      this.log.warn(`hook ${name} ${outcome === 'error' ? 'failed' : 'timed out'}: ${error}`);
  }
}
