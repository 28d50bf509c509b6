/**
 * How many workers the serving generation should have, and keeping it so: the lost are
 * replaced — at once, or after a backoff when workers keep failing — the extra retired oldest
 * first, and a worker that asked to retire (max-requests) leaves once enough replacements are
 * ready. The arbiter says what happened; this decides what to spawn or stop, and when. It owns
 * the count, the backoff and the respawn timer: nothing else writes them.
 */
import type { Logger } from '../../log/logger';
import type { WorkerState } from '../../protocol/events';
import { Backoff } from '../../util/backoff';
import { WorkerSet } from './worker-set';

/** A worker that stayed ready this long has proven the code works: its crash starts backoff afresh. */
const STABLE_MS = 10_000;

type Staff = {
  readonly state: WorkerState;
  readonly retiring: string | undefined;
  readonly spawnedAt: number;
  readonly readyAt: number | undefined;
};

export type StaffingOptions<W extends Staff> = {
  log: Logger;
  /** Whether lost workers are replaced now (phase.ts: replacesWorkers). */
  replacing: () => boolean;
  /** The serving generation's live workers, those that asked to retire included. */
  current: () => W[];
  /** Starts one worker of the serving generation; false when none could start. */
  spawn: () => boolean;
  /** Stops `worker` gracefully, for `reason`. */
  retire: (worker: W, reason: string) => void;
};

export class Staffing<W extends Staff> {
  private backoff = Backoff.start();
  private respawnTimer: NodeJS.Timeout | undefined;

  constructor(
    private wanted: number,
    private readonly options: StaffingOptions<W>,
  ) {}

  /** How many workers the serving generation should have. */
  get target(): number {
    return this.wanted;
  }

  /** The count changes: TTIN, TTOU, WINCH, a re-read config, an app that runs alone. */
  set(count: number): void {
    this.wanted = count;
  }

  /** Keeps the serving generation at `target` live workers: replaces the lost, retires the extra. */
  manage(): void {
    if (!this.options.replacing()) return;
    const serving = this.serving();
    if (serving.length > this.wanted) {
      for (const worker of WorkerSet.oldest(serving, serving.length - this.wanted))
        this.options.retire(worker, 'fewer workers wanted');
      return;
    }
    if (serving.length === this.wanted || this.respawnTimer) return;
    const delay = this.backoff.delayMs;
    if (delay === 0) return this.spawnMissing();
    this.options.log.warn(
      `starting a worker again in ${delay} ms (${this.backoff.failures} failures in a row)`,
    );
    this.respawnTimer = setTimeout(() => {
      this.respawnTimer = undefined;
      this.spawnMissing();
    }, delay);
  }

  /** Workers that asked to retire leave once enough replacements are ready. */
  retireReplaced(): void {
    const current = this.options.current();
    let ready = current.filter((worker) => worker.state === 'ready' && !worker.retiring).length;
    for (const worker of current) {
      if (!worker.retiring || worker.state !== 'ready' || ready < this.wanted) continue;
      this.options.retire(worker, `${worker.retiring} and its replacement is ready`);
      ready--;
    }
  }

  /** A new generation booted: the failures before it are forgiven. */
  succeeded(): void {
    this.backoff = this.backoff.succeed();
  }

  /** A worker could not be started or booted. */
  failed(): void {
    this.backoff = this.backoff.fail();
  }

  /** A live worker of the serving generation was lost; one that had served a while proved the code first. */
  lost(worker: W): void {
    const stable = worker.readyAt !== undefined && Date.now() - worker.readyAt >= STABLE_MS;
    this.backoff = (stable ? this.backoff.succeed() : this.backoff).fail();
  }

  /** Nothing more is started (a stop). */
  cancel(): void {
    clearTimeout(this.respawnTimer);
    this.respawnTimer = undefined;
  }

  private serving(): W[] {
    return this.options.current().filter((worker) => !worker.retiring);
  }

  private spawnMissing(): void {
    if (!this.options.replacing()) return;
    for (let i = this.serving().length; i < this.wanted; i++) if (!this.options.spawn()) break;
  }
}
