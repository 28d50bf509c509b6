/**
 * `onShutdown(name, fn, { timeoutMs })`: named, individually timed cleanup for apps that want
 * more than a signal handler. Hooks run once per worker, last registered first (like a stack
 * of `defer`s: what was opened last is closed first), one at a time.
 */
import type { HookReporter } from './hook-reporter';

export type ShutdownHook = () => unknown;
export type ShutdownHookOptions = { timeoutMs?: number };

type Entry = { name: string; fn: ShutdownHook; timeoutMs: number | undefined };

export class ShutdownHooks {
  private readonly entries: Entry[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly reporter: HookReporter) {}

  register(name: unknown, fn: unknown, options: ShutdownHookOptions = {}): void {
    if (typeof name !== 'string' || !name)
      throw new TypeError(`onShutdown: name must be a non-empty string, got ${typeof name}`);
    if (typeof fn !== 'function')
      throw new TypeError(`onShutdown('${name}'): fn must be a function, got ${typeof fn}`);
    const { timeoutMs } = options;
    if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0)) {
      throw new TypeError(
        `onShutdown('${name}'): timeoutMs must be a number greater than 0, got ${String(timeoutMs)}`,
      );
    }
    this.entries.push({ name, fn: fn as ShutdownHook, timeoutMs });
  }

  get size(): number {
    return this.entries.length;
  }

  /** Runs every hook once; calling it again returns the same run. */
  runAll(): Promise<void> {
    this.running ??= this.runEach();
    return this.running;
  }

  private async runEach(): Promise<void> {
    for (const entry of [...this.entries].reverse()) await this.runOne(entry);
  }

  private async runOne({ name, fn, timeoutMs }: Entry): Promise<void> {
    const run = this.reporter.start(name);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      if (timeoutMs !== undefined) timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const outcome = await Promise.race([
        Promise.resolve()
          .then(fn)
          .then(() => 'ok' as const),
        timedOut,
      ]);
      this.reporter.end(
        run,
        outcome,
        outcome === 'timeout' ? new Error(`did not finish within ${timeoutMs} ms`) : undefined,
      );
    } catch (error) {
      this.reporter.end(run, 'error', error);
    } finally {
      clearTimeout(timer);
    }
  }
}
