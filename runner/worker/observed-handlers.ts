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
type Wrapped = Listener & { listener: Listener; observed: true };

const isObserved = (event: string | symbol): event is ObservedEvent =>
  (OBSERVED_EVENTS as readonly (string | symbol)[]).includes(event);

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

export class ObservedHandlers {
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

  /** Runs the app's handlers for `event` as Node would on a signal (used for beforeExit). */
  emitToApp(event: ObservedEvent, ...args: unknown[]): void {
    for (const listener of process.rawListeners(event)) {
      if (isWrapped(listener as Listener)) (listener as Listener).call(process, ...args);
    }
  }

  private wrap(event: ObservedEvent, listener: Listener, once: boolean): Wrapped {
    const name = `${event} handler${listener.name ? ` ${listener.name}` : ''}`;
    const hooks = this.hooks;
    const wrapped = function (this: unknown, ...args: unknown[]) {
      if (once) process.removeListener(event, wrapped);
      const run = hooks.start(name);
      let result: unknown;
      try {
        result = listener.apply(this, args);
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
    } as Wrapped;
    wrapped.listener = listener;
    wrapped.observed = true;
    return wrapped;
  }
}

function isWrapped(listener: Listener): listener is Wrapped {
  return (listener as Partial<Wrapped>).observed === true;
}
