/**
 * The swap at the heart of a graceful cycle, which keeps one promise: a client never gets an
 * old-code answer after a new-code one. All workers take connections from one listening socket,
 * so a new worker that accepted while an old one still did would let a connection made after a
 * new-code answer land on old code. The new generation's workers therefore boot to accept on
 * cue (`acceptOnCue`: app loaded, listen() made, nothing accepted); once its first is ready the
 * old generation is told to stop, each old worker says `closed` (it accepts no more, and serves
 * no request that begins afterwards, not even on a kept-alive connection), and only then is the
 * new generation cued to `accept`. Connections made meanwhile wait in the kernel's backlog.
 *
 * An old worker that cannot say `closed` in time (frozen, or paused in a debugger) would take
 * connections again whenever it resumes: it is killed, and the cue waits for its exit.
 */

/** How long an old worker has to say it accepts no more connections before it is killed. */
export const CLOSE_CONFIRM_MS = 1_000;

/** What the handover reads of a worker. */
export type HandoverWorker = {
  readonly generation: number;
  readonly whenClosed: Promise<void>;
  readonly whenExited: Promise<void>;
};

export type HandoverOptions<W> = {
  /** How long an old worker has to say `closed` before it is killed. */
  closeConfirmMs: number;
  /** Stops an old worker gracefully. */
  stop: (worker: W, reason: string) => void;
  /** Kills an old worker that did not say `closed` in time. */
  kill: (worker: W, reason: string) => void;
  /** Tells a new worker it may accept (the `accept` message). */
  cue: (worker: W) => void;
};

export class Handover<W extends HandoverWorker> {
  /** The generation whose workers wait for their cue, while its boot and swap run. */
  private held: number | undefined;

  constructor(private readonly options: HandoverOptions<W>) {}

  /** Whether a worker of `generation` started now must wait for its cue. */
  holds(generation: number): boolean {
    return this.held === generation;
  }

  /** `generation` boots beside a generation that still accepts: its workers accept on cue. */
  hold(generation: number): void {
    this.held = generation;
  }

  /** `generation` will not serve (its boot failed, a stop came): nothing waits for a cue for it. */
  release(generation: number): void {
    if (this.held === generation) this.held = undefined;
  }

  /**
   * `generation` is live: stops `old`, waits until each of them accepts no more (killing the
   * ones that cannot say so in time, and waiting for their exit), then cues `current()` — the
   * new generation's workers then, the ones still booting included. Resolves to the old workers
   * it had to kill.
   */
  async swap(
    generation: number,
    old: readonly W[],
    current: () => readonly W[],
    reason: string,
  ): Promise<W[]> {
    for (const worker of old) this.options.stop(worker, reason);
    const { closeConfirmMs: ms } = this.options;
    const unconfirmed = await unconfirmedAfter(old, ms);
    for (const worker of unconfirmed)
      this.options.kill(
        worker,
        `it did not say it stopped accepting within ${ms} ms, and old code must not take another connection`,
      );
    await Promise.all(unconfirmed.map((worker) => worker.whenExited));
    if (this.held === generation) {
      this.held = undefined;
      for (const worker of current()) this.options.cue(worker);
    }
    return unconfirmed;
  }

  /**
   * Replace mode, for apps that cannot run twice at once (a port of their own, a lock file):
   * the old generation stops first, and `generation` boots once all of it is gone; connections
   * wait in the socket's backlog meanwhile, and nothing accepts on cue.
   */
  async retireFirst(generation: number, old: readonly W[]): Promise<void> {
    const reason = `reload (replace mode: generation ${generation} starts once this one is gone)`;
    for (const worker of old) this.options.stop(worker, reason);
    await Promise.all(old.map((worker) => worker.whenExited));
  }
}

/** The workers of `workers` that have not said `closed` (nor exited) within `ms`. */
async function unconfirmedAfter<W extends HandoverWorker>(workers: readonly W[], ms: number): Promise<W[]> {
  if (workers.length === 0) return [];
  const confirmed = new Set<W>();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  const all = Promise.all(workers.map((worker) => worker.whenClosed.then(() => confirmed.add(worker))));
  await Promise.race([all, timeout]);
  clearTimeout(timer);
  return workers.filter((worker) => !confirmed.has(worker));
}
