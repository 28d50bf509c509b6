/**
 * Time from `kill -HUP <arbiter>` to the new generation serving, seen from outside: (a) when
 * the `reload` event with phase 'completed' arrives, and (b) when a fresh connection is first
 * answered by a worker that did not exist before the HUP.
 */
import http from 'node:http';
import type { ArbiterServer } from './arbiter-server';
import { within } from './deadline';

/** A new request (fresh connection) is started this often while a reload is measured. */
const POLL_INTERVAL_MS = 2;
/** Requests in flight at most, so that a slow moment does not pile connections up. */
const MAX_IN_FLIGHT = 8;
const RELOAD_DEADLINE_MS = 20_000;
/** The old generation drains and exits before the next HUP; graceful timeout is 30 s. */
const RETIRE_DEADLINE_MS = 35_000;

export type ReloadSample = {
  /** HUP → `reload` completed event received, ms. */
  completedMs: number;
  /** HUP → first response from a new-generation pid, ms. */
  firstNewResponseMs: number;
  /** The arbiter's own durationMs in the completed event. */
  reportedMs: number;
  polls: number;
  failedPolls: number;
};

/** Fresh-connection GETs every POLL_INTERVAL_MS; resolves `firstNew` on a pid not in `old`. */
class Poller {
  polls = 0;
  failed = 0;
  readonly firstNew: Promise<number>;
  private inFlight = 0;
  private readonly timer: NodeJS.Timeout;
  private resolveFirstNew!: (at: number) => void;
  private onIdle: (() => void) | undefined;

  constructor(
    private readonly port: number,
    private readonly old: ReadonlySet<number>,
  ) {
    this.firstNew = new Promise((resolve) => (this.resolveFirstNew = resolve));
    this.timer = setInterval(() => this.poll(), POLL_INTERVAL_MS);
    this.poll();
  }

  private poll(): void {
    if (this.inFlight >= MAX_IN_FLIGHT) return;
    this.inFlight++;
    this.polls++;
    let settled = false;
    const settle = (failed: boolean) => {
      if (settled) return;
      settled = true;
      if (failed) this.failed++;
      if (--this.inFlight === 0) this.onIdle?.();
    };
    const request = http.get({ host: '127.0.0.1', port: this.port, path: '/', agent: false }, (response) => {
      const at = performance.now();
      const pid = Number(response.headers['x-worker-pid']);
      if (response.statusCode === 200 && !this.old.has(pid)) this.resolveFirstNew(at);
      response.resume();
      response.on('end', () => settle(response.statusCode !== 200));
      response.on('error', () => settle(true));
    });
    request.setTimeout(5_000, () => request.destroy(new Error('timed out')));
    request.on('error', () => settle(true));
  }

  /** Stops polling and lets the requests in flight finish, so that every failure is counted. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.inFlight === 0) return;
    await within(new Promise<void>((resolve) => (this.onIdle = resolve)), 6_000, 'requests in flight');
  }
}

/**
 * One graceful cycle by SIGHUP, timed; returns once the old generation has exited. Without
 * `poll`, nothing but the event is timed, which shows what the polling itself costs.
 */
export async function measureReload(
  server: ArbiterServer,
  generation: number,
  { poll }: { poll: boolean },
): Promise<ReloadSample> {
  const next = generation + 1;
  const live = new Set(server.livePids());
  const old = new Set(server.pidsOf(generation).filter((pid) => live.has(pid)));
  const completed = server.next(
    'reload',
    (event) => event.generation === next && event.phase !== 'triggered',
    RELOAD_DEADLINE_MS,
  );
  const retired = Promise.all(
    [...old].map((pid) => server.next('worker.exited', (event) => event.pid === pid, RETIRE_DEADLINE_MS)),
  );
  retired.catch(() => undefined); // awaited below; a reload failure must not leave it unhandled
  const poller = poll ? new Poller(server.port, old) : undefined;
  const hupAt = performance.now();
  process.kill(server.pid, 'SIGHUP');
  try {
    const done = await completed;
    if (done.event.phase !== 'completed')
      throw new Error(`reload ${next} failed: ${JSON.stringify(done.event)}`);
    const firstNewAt = poller
      ? await within(poller.firstNew, RELOAD_DEADLINE_MS, 'first response from the new generation')
      : NaN;
    await retired;
    await poller?.stop();
    return {
      completedMs: done.at - hupAt,
      firstNewResponseMs: firstNewAt - hupAt,
      reportedMs: 'durationMs' in done.event ? (done.event.durationMs ?? NaN) : NaN,
      polls: poller?.polls ?? 0,
      failedPolls: poller?.failed ?? 0,
    };
  } finally {
    await poller?.stop();
  }
}
