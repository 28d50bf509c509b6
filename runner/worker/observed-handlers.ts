/**
 * Observes the app's own `process.on('SIGTERM' | 'SIGINT' | 'beforeExit')` handlers with no
 * change to the app: each registration is wrapped so every call is reported as a hook run.
 * The wrapper carries `.listener = original`, the convention EventEmitter already uses for
 * `once`, so `process.listeners()` and `process.off(original)` behave as the app expects.
 */
import type { HookReporter } from './hook-reporter';

export const OBSERVED_EVENTS = ['SIGTERM', 'SIGINT', 'beforeExit'] as const;
export type ObservedEvent = (typeof OBSERVED_EVENTS)[number];

type Listener = (...args: unknown[]) => unknown;
type Wrapped = Listener & { listener: Listener; observed: true; run: (...args: unknown[]) => unknown };

const isObserved = (event: string | symbol): event is ObservedEvent =>
  (OBSERVED_EVENTS as readonly (string | symbol)[]).includes(event);

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

export class ObservedHandlers {
  /** Signals whose app handlers already ran for the current stop. */
  private readonly delivered = new Set<ObservedEvent>();

  constructor(private readonly hooks: HookReporter) {}

  install(): void {
    const target = process as unknown as Record<
      string,
      (event: string | symbol, listener: Listener) => unknown
    >;
    for (const method of ['on', 'addListener', 'prependListener'] as const) {
      const original = target[method]!.bind(process);
      target[method] = (event, listener) =>
        original(
          event,
          isObserved(event) && !isWrapped(listener) ? this.wrap(event, listener, false) : listener,
        );
    }
    for (const method of ['once', 'prependOnceListener'] as const) {
      const original = target[method]!.bind(process);
      const register = method === 'once' ? target.on! : target.prependListener!;
      target[method] = (event, listener) =>
        isObserved(event) ? register(event, this.wrap(event, listener, true)) : original(event, listener);
    }
  }

  /** How many handlers the app itself registered for `event`. */
  appHandlerCount(event: ObservedEvent): number {
    return process.rawListeners(event).filter((listener) => isWrapped(listener as Listener)).length;
  }

  /**
   * Runs the app's handlers for `event` once, as Node would on the signal. A stop can arrive
   * as a control message before the signal itself, and an app that owns its exit could leave
   * before the signal is handled (signal handles do not keep Node's loop alive); so the worker
   * delivers the handlers itself, and the real signal, when it comes, does not run them again.
   */
  deliver(event: ObservedEvent, ...args: unknown[]): void {
    if (this.delivered.has(event)) return;
    this.delivered.add(event);
    for (const listener of process.rawListeners(event)) {
      if (isWrapped(listener as Listener)) (listener as Wrapped).run(...args);
    }
  }

  private wrap(event: ObservedEvent, listener: Listener, once: boolean): Wrapped {
    const name = `${event} handler${listener.name ? ` ${listener.name}` : ''}`;
    const hooks = this.hooks;
    const invoke = (...args: unknown[]): unknown => {
      if (once) process.removeListener(event, wrapped);
      const run = hooks.start(name);
      let result: unknown;
      try {
        result = hooks.during(run, () => listener.apply(process, args));
      } catch (error) {
        hooks.end(run, 'error', error);
        throw error;
      }
      if (isThenable(result)) {
        result.then(
          () => hooks.end(run, 'ok'),
          (error: unknown) => hooks.end(run, 'error', error),
        );
      } else {
        hooks.endAtExit(run);
      }
      return result;
    };
    const delivered = this.delivered;
    // Called by Node when the signal arrives: skipped if the worker already delivered it.
    const wrapped = function (...args: unknown[]) {
      if (event !== 'beforeExit' && delivered.has(event)) return undefined;
      if (event !== 'beforeExit') delivered.add(event);
      return invoke(...args);
    } as Wrapped;
    wrapped.run = invoke;
    wrapped.listener = listener;
    wrapped.observed = true;
    return wrapped;
  }
}

function isWrapped(listener: Listener): listener is Wrapped {
  return (listener as Partial<Wrapped>).observed === true;
}
