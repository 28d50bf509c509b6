/**
 * Bounded load on loopback: `concurrency` requests in flight at once, until told to stop
 * starting new ones. Every other client keeps its connection alive, as a browser does; the
 * others open one per request. A kept-alive connection that the server closes just as a
 * request goes out on it (an old worker closes it unanswered at a reload, so that old code
 * answers no request sent after new code did) is the client's race, which browsers and Node's
 * `request.reusedSocket` advice answer by sending the request again on a fresh connection: so
 * does this load, once, and counts it as retried, not failed. Every answer is counted, and
 * every failure kept with what the drill was doing when it failed (a reload, a stop), so the
 * report can say which of them lost a request.
 */
import http from 'node:http';

export type LoadFailure = { during: string; error: string };

export type LoadResult = {
  sent: number;
  ok: number;
  failed: LoadFailure[];
  /** Sent on a connection kept alive from an earlier request. */
  keptAlive: number;
  /** Sent again on a fresh connection: the server had closed the kept-alive one under it. */
  retried: number;
};

/** One try: `reusedClosed` when a kept-alive connection was closed under it before any answer. */
type Try = { error?: string; reused?: boolean; reusedClosed?: boolean };

/** What a request that took longer than this is called: cut, at the client's end. */
const REQUEST_TIMEOUT_MS = 30_000;

export class Load {
  private readonly result: LoadResult = { sent: 0, ok: 0, failed: [], keptAlive: 0, retried: 0 };
  private readonly agents: http.Agent[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(
    private readonly port: number,
    private readonly path: string,
    concurrency: number,
    /** What the drill is doing now: a failure is reported under it. */
    private readonly phase: () => string,
  ) {
    this.loops = Array.from({ length: concurrency }, (_, index) => {
      if (index % 2 === 0) return this.loop(false);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      this.agents.push(agent);
      return this.loop(agent);
    });
  }

  /** Starts no more requests; resolves once the ones in flight have ended, with the counts. */
  async stop(): Promise<LoadResult> {
    this.running = false;
    await Promise.all(this.loops);
    // Idle kept-alive connections would hold a worker that drains until its keep-alive timeout.
    for (const agent of this.agents) agent.destroy();
    return this.result;
  }

  private async loop(agent: http.Agent | false): Promise<void> {
    while (this.running) {
      this.result.sent++;
      let answer = await this.request(agent);
      if (answer.reused) this.result.keptAlive++;
      // Not once stopped: the server is stopping too, and the request would only wait for it.
      if (answer.reusedClosed && this.running) {
        this.result.retried++;
        answer = await this.request(false);
      }
      if (answer.error === undefined) this.result.ok++;
      else this.result.failed.push({ during: this.phase(), error: answer.error }); // when it failed
    }
  }

  /** One request: no error when it was answered in full with a status below 500. */
  private request(agent: http.Agent | false): Promise<Try> {
    return new Promise((resolve) => {
      let answered = false;
      const request = http.get(
        { host: '127.0.0.1', port: this.port, path: this.path, agent, timeout: REQUEST_TIMEOUT_MS },
        (response) => {
          answered = true;
          response.resume();
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            resolve({ reused: request.reusedSocket, ...(status >= 500 ? { error: `HTTP ${status}` } : {}) });
          });
          response.on('error', (error) => resolve({ error: error.message }));
        },
      );
      request.on('timeout', () =>
        request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)),
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        const closedUnder = error.code === 'ECONNRESET' || error.message === 'socket hang up';
        const reused = request.reusedSocket;
        resolve({
          error: error.code ?? error.message,
          reused,
          reusedClosed: reused && !answered && closedUnder,
        });
      });
    });
  }
}
