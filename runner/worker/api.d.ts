/**
 * What the arbiter gives an app it runs, with nothing to install: a global `arbiter`.
 * It is undefined when the app runs outside the arbiter, so use it with `?.`:
 *
 *   globalThis.arbiter?.onShutdown('db pool', () => pool.end(), { timeoutMs: 5000 });
 *
 * To type it, add `/// <reference types="arbiter/runner/worker/api" />` (or copy this file).
 */
export interface ArbiterWorkerApi {
  /**
   * Registers named cleanup that runs when the worker stops (gracefully, after in-flight
   * requests finish; or on a quick stop). Hooks run last-registered first, one at a time; each
   * run is reported with its outcome and duration. A hook over `timeoutMs` is reported as timed
   * out and the next one starts.
   */
  onShutdown(name: string, fn: () => unknown, options?: { timeoutMs?: number }): void;
  /**
   * For apps that are not ready when they listen (a cache to warm, a database to reach): the
   * worker counts as ready — and the previous generation starts draining — only once every
   * hold has been released. Call it before the app's listen() completes. The boot timeout
   * still bounds the wait.
   *
   *   const ready = globalThis.arbiter?.holdReady('warming the cache');
   *   await warmCache();
   *   ready?.();
   */
  holdReady(reason?: string): () => void;
  /** This worker's id and generation, as the arbiter's log and events show them. */
  readonly worker: { readonly id: number; readonly generation: number };
}

declare global {
  var arbiter: ArbiterWorkerApi | undefined;
}
