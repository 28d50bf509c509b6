/**
 * How long to wait before starting a worker again after failures, so that an app that dies at
 * boot cannot turn the arbiter into a fork storm. An immutable value: `fail()` and `succeed()`
 * return the next policy.
 */
export type BackoffOptions = { baseMs: number; maxMs: number };

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 100, maxMs: 10_000 };

export class Backoff {
  private constructor(
    /** Consecutive failures so far. */
    readonly failures: number,
    private readonly options: BackoffOptions,
  ) {}

  static start(options: BackoffOptions = DEFAULT_BACKOFF): Backoff {
    return new Backoff(0, options);
  }

  /** The wait before the next start: none after a single failure, then doubling up to the cap. */
  get delayMs(): number {
    if (this.failures <= 1) return 0;
    return Math.min(this.options.baseMs * 2 ** (this.failures - 2), this.options.maxMs);
  }

  fail(): Backoff {
    return new Backoff(this.failures + 1, this.options);
  }

  succeed(): Backoff {
    return this.failures === 0 ? this : new Backoff(0, this.options);
  }
}
