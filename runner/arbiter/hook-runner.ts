/**
 * Runs the arbiter-side hooks from the config file. Each run is a `hook` start and end event
 * with outcome and duration; a hook that throws or outlives its timeout is reported and the
 * arbiter goes on — a broken hook must never take the server down.
 */
import type { ArbiterHooks, HookName } from '../config/hooks';
import type { EventSink } from '../log/event-sink';
import type { Logger } from '../log/logger';

/** A hook that has not settled by then is reported as timed out and no longer waited for. */
const HOOK_TIMEOUT_MS = 30_000;

export class HookRunner {
  constructor(
    private hooks: ArbiterHooks,
    private readonly events: EventSink,
    private readonly log: Logger,
  ) {}

  replace(hooks: ArbiterHooks): void {
    this.hooks = hooks;
  }

  /** Runs `name` if the config defines it; resolves when it settled or timed out, never rejects. */
  async run<K extends HookName>(name: K, ...args: Parameters<NonNullable<ArbiterHooks[K]>>): Promise<void> {
    const hook = this.hooks[name] as ((...a: unknown[]) => unknown) | undefined;
    if (!hook) return;
    const pid = process.pid;
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
      error = thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown);
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
