/**
 * The shutdown hooks frameworks run, each reported by its own name and duration with no change
 * to the app — so the tree shows which provider is slow or never finished, where otherwise the
 * whole of a framework's close is one "SIGTERM handler" run:
 * - Fastify's `onClose` and `preClose` hooks, through its `fastify.initialization` diagnostics
 *   channel (every instance announces itself there as it is created) and its own `addHook`;
 * - NestJS's lifecycle hooks (`onModuleDestroy`, `beforeApplicationShutdown`,
 *   `onApplicationShutdown`) of every provider and controller, instrumented as a stop begins:
 *   each step of Nest's close times each instance's hook before it is called.
 */
import { subscribe } from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HookReporter } from './hook-reporter';

type Fn = (this: unknown, ...args: unknown[]) => unknown;
const TIMED = Symbol('arbiter-timed');

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

export class FrameworkHooks {
  constructor(
    private readonly reporter: HookReporter,
    /** Where the app is: frameworks are looked up from there. */
    private appDir = process.cwd(),
  ) {}

  /** Before the app loads. */
  install(): void {
    subscribe('fastify.initialization', (message) => this.fastify((message as { fastify: unknown }).fastify));
  }

  /** As a stop begins, before the app's own handlers run. */
  beforeStop(): Promise<void> {
    return this.nest();
  }

  /** The app's folder, once the boot message names it. */
  setAppDir(dir: string): void {
    this.appDir = dir;
  }

  /**
   * `fn` reported as a run named `name` each time it is called; its `length` and `name` kept
   * (frameworks read both). A hook that takes a callback at `doneAt` ends when it calls it.
   */
  timed<T extends Fn>(name: string, fn: T, doneAt?: number): T {
    if ((fn as unknown as Record<symbol, unknown>)[TIMED]) return fn;
    const reporter = this.reporter;
    const wrapper = function (this: unknown, ...args: unknown[]): unknown {
      const run = reporter.start(name);
      const done = doneAt !== undefined && fn.length > doneAt ? args[doneAt] : undefined;
      if (typeof done === 'function') {
        args[doneAt!] = (error?: unknown, ...rest: unknown[]) => {
          reporter.end(run, error ? 'error' : 'ok', error ?? undefined);
          return (done as Fn).call(this, error, ...rest);
        };
      }
      try {
        const result = reporter.during(run, () => fn.apply(this, args));
        if (isThenable(result))
          result.then(
            () => reporter.end(run, 'ok'),
            (error: unknown) => reporter.end(run, 'error', error),
          );
        else if (typeof done !== 'function') reporter.end(run, 'ok');
        return result;
      } catch (error) {
        reporter.end(run, 'error', error);
        throw error;
      }
    };
    Object.defineProperty(wrapper, 'length', { value: fn.length });
    Object.defineProperty(wrapper, 'name', { value: fn.name });
    Object.defineProperty(wrapper, TIMED, { value: true });
    return wrapper as unknown as T;
  }

  /** A new Fastify instance: its onClose and preClose hooks are timed as they are added. */
  private fastify(instance: unknown): void {
    const app = instance as { addHook?: Fn };
    const addHook = app.addHook;
    if (typeof addHook !== 'function') return;
    const timed = this.timed.bind(this);
    // Plugin contexts are made from this object (Object.create): they inherit the wrapper.
    app.addHook = function (this: unknown, name: unknown, fn: unknown) {
      const closing = name === 'onClose' || name === 'preClose';
      // An async function Fastify would refuse keeps its shape, so Fastify still refuses it.
      const refused =
        (fn as Fn | undefined)?.constructor?.name === 'AsyncFunction' && (fn as Fn).length === 3;
      if (closing && typeof fn === 'function' && !refused) {
        const label = `fastify ${name} ${(fn as Fn).name || 'hook'}`;
        fn = timed(label, fn as Fn, name === 'onClose' ? 1 : 0);
      }
      return addHook.call(this, name, fn);
    };
  }

  /**
   * NestJS, if the app can load it: the three steps of its close (NestApplicationContext's
   * callDestroyHook, callBeforeShutdownHook, callShutdownHook — the same in Nest 8 to 12, CommonJS
   * or ES modules) each time every instance's hook before they run. Nest is looked up where the
   * app would find it; importing it again gives the app's own, already loaded.
   */
  private async nest(): Promise<void> {
    let core: { NestApplicationContext?: { prototype: Record<string, unknown> } };
    try {
      const path = createRequire(join(this.appDir, 'app.js')).resolve('@nestjs/core');
      core = (await import(pathToFileURL(path).href)) as typeof core;
    } catch {
      return; // not a Nest app
    }
    const proto = core.NestApplicationContext?.prototype;
    if (!proto) return;
    const steps = [
      ['callDestroyHook', 'onModuleDestroy'],
      ['callBeforeShutdownHook', 'beforeApplicationShutdown'],
      ['callShutdownHook', 'onApplicationShutdown'],
    ] as const;
    for (const [step, hook] of steps) {
      const original = proto[step];
      if (typeof original !== 'function' || (original as unknown as Record<symbol, unknown>)[TIMED]) continue;
      const instrument = (context: unknown) => {
        const modules = (
          context as { getModulesToTriggerHooksOn?: () => unknown[] }
        ).getModulesToTriggerHooksOn?.();
        for (const module of modules ?? []) this.nestInstances(module, hook);
      };
      const wrapped = function (this: unknown, ...args: unknown[]) {
        instrument(this);
        return (original as Fn).apply(this, args);
      };
      Object.defineProperty(wrapped, TIMED, { value: true });
      proto[step] = wrapped;
    }
  }

  /** Every instance of a Nest module that has `hook`: its hook timed, by class name. */
  private nestInstances(module: unknown, hook: string): void {
    const parts = module as Record<string, unknown>;
    for (const group of ['controllers', 'providers', 'injectables', 'middlewares']) {
      const wrappers = parts[group];
      if (!(wrappers instanceof Map)) continue;
      for (const wrapper of wrappers.values()) {
        let instance: Record<string, unknown> | undefined;
        try {
          instance = (wrapper as { instance?: Record<string, unknown> }).instance;
        } catch {
          continue; // a provider Nest cannot hand out outside a request
        }
        const method = instance?.[hook];
        if (!instance || typeof method !== 'function') continue;
        const owner = (instance.constructor as { name?: string } | undefined)?.name || 'provider';
        instance[hook] = this.timed(`Nest ${hook} ${owner}`, method as Fn);
      }
    }
  }
}
