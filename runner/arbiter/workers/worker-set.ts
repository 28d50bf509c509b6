/**
 * The arbiter's workers and the questions it asks of them: which are live, which serve a
 * generation, which process a pid names. Every worker is here from its spawn until its exit
 * has been reported.
 */
import type { WorkerState } from '../../protocol/events';
import { LIVE_STATES } from './lifecycle';

/** What the queries read of a worker. */
export type SetMember = {
  readonly id: number;
  readonly pid: number;
  readonly generation: number;
  readonly spawnedAt: number;
  readonly state: WorkerState;
  readonly exited: boolean;
  readonly retiring: string | undefined;
};

export class WorkerSet<W extends SetMember> {
  private readonly byId = new Map<number, W>();
  private lastId = 0;

  /** Ids are never reused, so an event's id names one worker for the arbiter's whole life. */
  nextId(): number {
    return ++this.lastId;
  }

  add(worker: W): void {
    this.byId.set(worker.id, worker);
  }

  delete(worker: W): void {
    this.byId.delete(worker.id);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Every worker whose exit has not been reported yet, in spawn order. */
  all(): W[] {
    return [...this.byId.values()];
  }

  /** Booting or ready: the workers that count towards a generation. */
  live(): W[] {
    return this.all().filter((worker) => LIVE_STATES.has(worker.state));
  }

  /** The live workers of `generation` that have not asked to be replaced: those that make up its number. */
  serving(generation: number): W[] {
    return this.live().filter((worker) => worker.generation === generation && !worker.retiring);
  }

  /** The processes of `generation` still running, in any state. */
  ofGeneration(generation: number): W[] {
    return this.all().filter((worker) => worker.generation === generation && !worker.exited);
  }

  /** The worker whose process has this pid, while that process runs. */
  running(pid: number): W | undefined {
    return this.all().find((worker) => worker.pid === pid && !worker.exited);
  }

  /** The generations some worker still belongs to. */
  generations(): Set<number> {
    return new Set(this.all().map((worker) => worker.generation));
  }

  /** The `count` longest-serving of `workers`: the ones to retire when fewer are wanted. */
  static oldest<W extends { readonly spawnedAt: number }>(workers: readonly W[], count: number): W[] {
    return [...workers].sort((a, b) => a.spawnedAt - b.spawnedAt).slice(0, Math.max(0, count));
  }
}
