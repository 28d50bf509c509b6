/**
 * When a reload's new code first answered: the boot profile says when the new generation could
 * serve, this says when it did — the figure a user feels after a save. Its workers say when
 * their first response finished (`first-response`), which may come before the arbiter has told
 * the reload completed (the new code accepts at the handover, before the swap is over), so an
 * early answer waits here for its generation to go live. Pure: times are given.
 */

export type LiveGeneration = {
  generation: number;
  /** Where the boot profile starts: the batch's first file event, else the trigger (epoch ms). */
  from: number;
  /** When its first worker was ready (epoch ms). */
  liveAt: number;
};

export type FirstResponse = { generation: number; worker: number; ms: number; afterLiveMs: number };

export class FirstResponses {
  constructor(private readonly tell: (first: FirstResponse) => void) {}

  /** The newest generation gone live whose first answer is still to come. */
  private waiting: LiveGeneration | undefined;
  /** The newest generation gone live: answers of it or older ones tell nothing new. */
  private newestLive = 0;
  /** Answers from generations not live yet: the earliest of each. */
  private readonly early = new Map<number, { at: number; worker: number }>();

  /** `live` went live: its first response is told now if one came already, else when it comes. */
  live(live: LiveGeneration): void {
    this.waiting = live;
    this.newestLive = Math.max(this.newestLive, live.generation);
    const early = this.early.get(live.generation);
    for (const generation of this.early.keys())
      if (generation <= live.generation) this.early.delete(generation);
    if (early) this.answered(live.generation, early.worker, early.at);
  }

  /** A worker of `generation` finished its first response at `at`: told if it is the reload's first. */
  answered(generation: number, worker: number, at: number): void {
    const waiting = this.waiting;
    if (waiting?.generation === generation) {
      this.waiting = undefined;
      const ms = Math.max(0, at - waiting.from);
      return this.tell({ generation, worker, ms, afterLiveMs: Math.max(0, at - waiting.liveAt) });
    }
    // Before its generation went live (or a generation that never does: superseded, failed).
    // The earliest by the workers' clocks: two workers' messages travel apart.
    const early = this.early.get(generation);
    if (generation > this.newestLive && (!early || at < early.at)) this.early.set(generation, { at, worker });
  }
}
