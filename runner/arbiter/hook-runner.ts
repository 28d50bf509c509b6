/**
 * Runs the arbiter-side hooks from the config file. Each run is a `hook` start and end event
 * with outcome and duration; a hook that throws or outlives its timeout is reported and the
 * arbiter goes on — a broken hook must never take the server down.
 */
import type { ArbiterHooks, HookName } from '../config/hooks';
import { userStack } from '../errors/error-location';
import type { EventSink } from '../log/event-sink';
import type { Logger } from '../log/logger';

/** A hook that has not settled by then is reported as timed out and no longer waited for. */
export const HOOK_TIMEOUT_MS = 30_000;

export class HookRunner {
  constructor(
    private hooks: ArbiterHooks,
    private readonly events: EventSink,
    private readonly log: Logger,
  ) {}

  private readonly running = new Set<Promise<void>>();

  /** Resolves once every hook run started so far has ended (each is bounded by the hook timeout). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  replace(hooks: ArbiterHooks): void {
    this.hooks = hooks;
  }

  /** Runs `name` if the config defines it; resolves when it settled or timed out, never rejects. */
  run<K extends HookName>(name: K, ...args: Parameters<NonNullable<ArbiterHooks[K]>>): Promise<void> {
    const hook = this.hooks[name] as ((...a: unknown[]) => unknown) | undefined;
    if (!hook) return Promise.resolve();
    const run = this.runOne(name, hook, args);
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return run;
  }

  private async runOne(key: HookName, hook: (...a: unknown[]) => unknown, args: unknown[]): Promise<void> {
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
      outcome = await Promise.race([
        Promise.resolve()
          .then(() => hook(...args))
          .then(() => 'ok' as const),
        timeout,
      ]);
      if (outcome === 'timeout') error = `did not finish within ${HOOK_TIMEOUT_MS / 1000} s`;
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
