/**
 * What a swap came to, once it is over: from the moment a reload went live until the last
 * worker of the older generations exited, how many requests the old workers finished (those in
 * flight at the swap, and any a kept-alive connection brought after), how many the new ones
 * took, and how many the kill of an old worker cut. "0 cut" is the proof that the reload lost
 * nothing on the server's side.
 *
 * It follows the event stream only (the arbiter's facts, said once): `worker.spawned` for each
 * worker's generation, `worker.stats` for its counters as last reported (workers report at most
 * once a second, and once more as they exit; `served` counts finished requests),
 * `worker.requests` `cut` at a kill, `worker.exited`. A pure observer: a
 * table of events in, swaps out.
 */
import type { ArbiterEvent } from '../../protocol/events';

/** One swap's figures: the `reload.swap` event's. */
export type Swap = {
  generation: number;
  /** The older generations' workers that were still running when it went live. */
  oldWorkers: number;
  /** Requests the old workers finished after they stopped accepting (at the swap), until the last exited. */
  oldServed: number;
  /** Requests the new generation took meanwhile (as last reported). */
  newServed: number;
  /** Requests in flight at an old worker's kill. */
  cut: number;
  /** From live to the last old worker's exit. */
  durationMs: number;
};

type Open = {
  generation: number;
  startedAt: number;
  /** The old workers still running, by id: how many requests each had finished as it stopped accepting. */
  old: Map<number, OldWorker>;
  oldServed: number;
  cut: number;
  oldWorkers: number;
  /** The served count of each worker of the new generation when it began (they may have served already). */
  newBaseline: Map<number, number>;
  /** When the last old worker exited; from then on it waits for the new workers' next counters. */
  endedAt?: number;
  /** The new workers whose counters since `endedAt` have not come yet. */
  awaiting: Set<number>;
};

/** How long a swap waits for the new workers' next counters (they report at most once a second, and only when changed). */
export const NEW_COUNTERS_WAIT_MS = 1200;

/**
 * An old worker's count to start from: what it had finished as it stopped accepting (its stats
 * marked `closed`); until that comes (a worker killed first never says it), the latest reported.
 */
type OldWorker = { baseline: number; fixed: boolean };

export class SwapTally {
  private readonly generationOf = new Map<number, number>();
  /** Each worker's requests finished, as last reported. */
  private readonly served = new Map<number, number>();
  /** What each worker had finished as it stopped accepting: that comes before the reload's `completed`. */
  private readonly closedAt = new Map<number, number>();
  private readonly open: Open[] = [];

  constructor(
    private readonly onSwap: (swap: Swap) => void,
    /** Runs `fn` once, `ms` from now (a timer; the tests run it by hand). */
    private readonly later: (fn: () => void, ms: number) => void = (fn, ms) =>
      void setTimeout(fn, ms).unref(),
  ) {}

  observe(event: ArbiterEvent): void {
    if (event.type === 'worker.spawned') this.generationOf.set(event.id, event.generation);
    else if (event.type === 'worker.stats') {
      this.served.set(event.id, event.served);
      if (event.closed) this.closedAt.set(event.id, event.served);
      this.counted(event.id);
      for (const swap of this.open) {
        const old = swap.old.get(event.id);
        if (!old || old.fixed) continue;
        old.baseline = event.served;
        old.fixed = event.closed === true;
      }
    } else if (event.type === 'worker.requests' && event.at === 'cut') {
      for (const swap of this.open) if (swap.old.has(event.id)) swap.cut += event.total;
    } else if (event.type === 'reload' && event.phase === 'completed') this.begin(event.generation, event.ts);
    else if (event.type === 'worker.exited') this.exited(event.id, event.ts);
  }

  private begin(generation: number, at: number): void {
    const old = new Map<number, OldWorker>();
    const newBaseline = new Map<number, number>();
    for (const [id, of] of this.generationOf) {
      if (of < generation)
        old.set(id, { baseline: this.closedAt.get(id) ?? this.finished(id), fixed: this.closedAt.has(id) });
      else if (of === generation) newBaseline.set(id, this.finished(id));
    }
    // Nothing was serving beside it (after WINCH, a replace-mode reload): no swap to tell.
    if (old.size === 0) return;
    this.open.push({
      generation,
      startedAt: at,
      old,
      oldServed: 0,
      cut: 0,
      oldWorkers: old.size,
      newBaseline,
      awaiting: new Set(),
    });
  }

  private exited(id: number, at: number): void {
    this.counted(id); // an awaited new worker that exits says nothing more
    for (const swap of [...this.open]) {
      const old = swap.old.get(id);
      if (old === undefined) continue;
      swap.old.delete(id);
      swap.oldServed += Math.max(0, this.finished(id) - old.baseline);
      if (swap.old.size === 0) this.finish(swap, at);
    }
    this.generationOf.delete(id);
    this.served.delete(id);
    this.closedAt.delete(id);
  }

  private finished(id: number): number {
    return this.served.get(id) ?? 0;
  }

  /**
   * The old side is done; the new side's count, as reported, can be up to a second behind. So it
   * is told once each new worker reported again (or exited), or after NEW_COUNTERS_WAIT_MS.
   */
  private finish(swap: Open, at: number): void {
    swap.endedAt = at;
    for (const [id, of] of this.generationOf) if (of === swap.generation) swap.awaiting.add(id);
    if (swap.awaiting.size === 0) return this.tell(swap);
    this.later(() => this.tell(swap), NEW_COUNTERS_WAIT_MS);
  }

  /** `id` reported (or exited): a swap waiting for it may be told. */
  private counted(id: number): void {
    for (const swap of [...this.open])
      if (swap.endedAt !== undefined && swap.awaiting.delete(id) && swap.awaiting.size === 0) this.tell(swap);
  }

  private tell(swap: Open): void {
    const index = this.open.indexOf(swap);
    if (index < 0) return; // told already
    this.open.splice(index, 1);
    let newServed = 0;
    for (const [id, of] of this.generationOf)
      if (of === swap.generation) newServed += this.finished(id) - (swap.newBaseline.get(id) ?? 0);
    this.onSwap({
      generation: swap.generation,
      oldWorkers: swap.oldWorkers,
      oldServed: swap.oldServed,
      newServed,
      cut: swap.cut,
      durationMs: Math.max(0, swap.endedAt! - swap.startedAt),
    });
  }
}
