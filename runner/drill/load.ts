/**
 * Bounded load on loopback: `concurrency` requests in flight at once, each on a new connection
 * (as the tests and the bench load: a kept-alive connection that the server closes as a request
 * goes out is the client's race, which browsers answer by retrying), until told to stop
 * starting new ones. Every answer is counted, and
 * every failure kept with what the drill was doing when it failed (a reload, a stop), so the
 * report can say which of them lost a request.
 */
import http from 'node:http';

export type LoadFailure = { during: string; error: string };

export type LoadResult = { sent: number; ok: number; failed: LoadFailure[] };

/** What a request that took longer than this is called: cut, at the client's end. */
const REQUEST_TIMEOUT_MS = 30_000;

export class Load {
  private readonly result: LoadResult = { sent: 0, ok: 0, failed: [] };
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(
    private readonly port: number,
    private readonly path: string,
    concurrency: number,
    /** What the drill is doing now: a failure is reported under it. */
    private readonly phase: () => string,
  ) {
    this.loops = Array.from({ length: concurrency }, () => this.loop());
  }

  /** Starts no more requests; resolves once the ones in flight have ended, with the counts. */
  async stop(): Promise<LoadResult> {
    this.running = false;
    await Promise.all(this.loops);
    return this.result;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      this.result.sent++;
      const error = await this.request();
      if (error === undefined) this.result.ok++;
      else this.result.failed.push({ during: this.phase(), error }); // when it failed
    }
  }

  /** One request: undefined when it was answered in full with a status below 500. */
  private request(): Promise<string | undefined> {
    return new Promise((resolve) => {
      const request = http.get(
        { host: '127.0.0.1', port: this.port, path: this.path, agent: false, timeout: REQUEST_TIMEOUT_MS },
        (response) => {
          response.resume();
          response.on('end', () =>
            resolve((response.statusCode ?? 0) >= 500 ? `HTTP ${response.statusCode}` : undefined),
          );
          response.on('error', (error) => resolve(error.message));
        },
      );
      request.on('timeout', () =>
        request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)),
      );
      request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
  }
}
