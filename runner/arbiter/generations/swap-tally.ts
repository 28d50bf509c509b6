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
  /** Requests the old workers finished from then on (as last reported before live), until the last exited. */
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
  /** The old workers still running, by id, and how many requests each had finished at the start. */
  old: Map<number, number>;
  oldServed: number;
  cut: number;
  oldWorkers: number;
  /** The served count of each worker of the new generation when it began (they may have served already). */
  newBaseline: Map<number, number>;
};

export class SwapTally {
  private readonly generationOf = new Map<number, number>();
  /** Each worker's requests finished, as last reported. */
  private readonly served = new Map<number, number>();
  private readonly open: Open[] = [];

  constructor(private readonly onSwap: (swap: Swap) => void) {}

  observe(event: ArbiterEvent): void {
    if (event.type === 'worker.spawned') this.generationOf.set(event.id, event.generation);
    else if (event.type === 'worker.stats') this.served.set(event.id, event.served);
    else if (event.type === 'worker.requests' && event.at === 'cut') {
      for (const swap of this.open) if (swap.old.has(event.id)) swap.cut += event.total;
    } else if (event.type === 'reload' && event.phase === 'completed') this.begin(event.generation, event.ts);
    else if (event.type === 'worker.exited') this.exited(event.id, event.ts);
  }

  private begin(generation: number, at: number): void {
    const old = new Map<number, number>();
    const newBaseline = new Map<number, number>();
    for (const [id, of] of this.generationOf) {
      if (of < generation) old.set(id, this.finished(id));
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
    });
  }

  private exited(id: number, at: number): void {
    for (const swap of [...this.open]) {
      const baseline = swap.old.get(id);
      if (baseline === undefined) continue;
      swap.old.delete(id);
      swap.oldServed += Math.max(0, this.finished(id) - baseline);
      if (swap.old.size === 0) this.finish(swap, at);
    }
    this.generationOf.delete(id);
    this.served.delete(id);
  }

  private finished(id: number): number {
    return this.served.get(id) ?? 0;
  }

  private finish(swap: Open, at: number): void {
    this.open.splice(this.open.indexOf(swap), 1);
    let newServed = 0;
    for (const [id, of] of this.generationOf)
      if (of === swap.generation) newServed += this.finished(id) - (swap.newBaseline.get(id) ?? 0);
    this.onSwap({
      generation: swap.generation,
      oldWorkers: swap.oldWorkers,
      oldServed: swap.oldServed,
      newServed,
      cut: swap.cut,
      durationMs: Math.max(0, at - swap.startedAt),
    });
  }
}
