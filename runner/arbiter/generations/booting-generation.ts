/**
 * A generation being booted. Its boot settles once: `ok` when it goes live — a cycle's at its
 * first ready worker, the rest joining as they boot; the first generation once all are ready —,
 * failed at the first worker that cannot be ready before that (it exited or timed out; for the
 * first generation, also one that was ready and crashed while its siblings still booted: a
 * generation that serves for a moment and dies is not healthy), or when the boot is aborted (a
 * stop, no process could be started). On failure its live workers are killed: nothing of a
 * failed generation serves. A later worker that fails once the generation is live is a worker
 * boot failure like a respawn's, for the arbiter to report and staffing to replace with backoff.
 *
 * One exception makes the generation smaller instead of failing it: a worker that failed only
 * because another copy of the app is in the way (coexistence.ts) while a sibling of the same
 * code boots or serves — the code is fine, it cannot run twice.
 */
import type { ErrorInfo, WorkerState } from '../../protocol/events';
import { describeBootFailure, describeEarlyCrash } from '../workers/exit-reasons';
import { LIVE_STATES } from '../workers/lifecycle';
import { anotherCopyInTheWay } from './coexistence';

/**
 * How a generation's boot ended. `reported`: the worker runtime itself said the app could not
 * be loaded (an import error, a missing callable), as opposed to a boot the arbiter saw fail.
 */
/** Why a superseded generation's boot ended: its error message, and the reason its workers are killed. */
export const SUPERSEDED = 'superseded by a newer change before it served';

export type BootResult =
  | { ok: true }
  | {
      ok: false;
      error: ErrorInfo;
      reported?: boolean;
      /** A worker said another copy of the app is in the way (coexistence.ts). */
      anotherCopy?: string;
      /** Stopped before it went live: newer code (or config) was asked for meanwhile. */
      superseded?: boolean;
    };

/** What the booting generation reads of its workers. */
export type BootingWorker = {
  readonly id: number;
  readonly state: WorkerState;
  readonly exited: boolean;
  readonly readyAt: number | undefined;
  readonly stderrTail: readonly string[];
  readonly bootError: ErrorInfo | undefined;
  readonly bootErrorReported: boolean;
};

export type BootingOptions<W> = {
  /** How many workers it boots: with none wanted (after SIGWINCH) it is live at once. */
  wanted: number;
  /**
   * When it goes live: at its `first` ready worker (a cycle: the old generation serves until
   * then, and the handover makes the swap safe), or once `all` are (the first generation, whose
   * failure the arbiter exits on: an app that cannot stay up is told at once, not crash-looped).
   */
  liveAt: 'first' | 'all';
  /** Kill these: their generation failed (or was superseded: `result` says which). */
  onFailed: (live: W[], result: Extract<BootResult, { ok: false }>) => void;
  /** A worker could not run beside its siblings (`said` is its line saying so): run the app alone from now on. */
  onAnotherCopy: (said: string) => void;
};

export class BootingGeneration<W extends BootingWorker> {
  readonly result: Promise<BootResult>;
  private readonly workers = new Set<W>();
  private resolve!: (result: BootResult) => void;
  private done = false;
  private live = false;

  constructor(
    readonly generation: number,
    private readonly options: BootingOptions<W>,
  ) {
    this.result = new Promise((resolve) => (this.resolve = resolve));
    if (options.wanted === 0) this.settle({ ok: true });
  }

  /** Whether its boot has ended, well or not. */
  get settled(): boolean {
    return this.done;
  }

  /** Whether `worker` is one of this generation's, still booting it. */
  has(worker: W): boolean {
    return !this.done && this.workers.has(worker);
  }

  add(worker: W): void {
    this.workers.add(worker);
  }

  /** One of its workers is ready: the first, or the last, makes the generation live. */
  ready(worker: W): void {
    if (this.has(worker) && (this.options.liveAt === 'first' || this.allReady())) this.settle({ ok: true });
  }

  /**
   * One of its workers exited; `before` is the state it was in. One stopped while booting
   * belongs to a stop, which aborts the boot its own way; one that was ready, to staffing.
   */
  exited(worker: W, before: WorkerState, code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.workers.has(worker) || before === 'draining') return;
    if (worker.readyAt !== undefined) {
      if (this.has(worker) && LIVE_STATES.has(before))
        this.fail({ ok: false, error: describeEarlyCrash(worker, code, signal) });
      return;
    }
    const anotherCopy = anotherCopyInTheWay([...worker.stderrTail, worker.bootError?.message ?? '']);
    const siblings = [...this.workers].filter((w) => w !== worker && !w.exited);
    if (anotherCopy && (this.live || siblings.length > 0)) {
      // The code boots (a sibling of the same generation does): it only cannot run twice.
      this.options.onAnotherCopy(anotherCopy);
      this.workers.delete(worker);
      if (!this.done && this.allReady()) this.settle({ ok: true });
      return;
    }
    this.fail({
      ok: false,
      error: worker.bootError ?? describeBootFailure(worker, code, signal),
      reported: worker.bootErrorReported,
      ...(anotherCopy ? { anotherCopy } : {}),
    });
  }

  /** Ends the boot now, failed: a stop came, or no worker process could be started. */
  abort(error: ErrorInfo): void {
    this.fail({ ok: false, error });
  }

  /**
   * Ends the boot now, before it goes live, because what it boots is stale: a newer save came.
   * False once it is live (the rest of it joins, and the newer save cycles after) or settled.
   */
  supersede(): boolean {
    if (this.done) return false;
    this.fail({ ok: false, error: { message: SUPERSEDED }, superseded: true });
    return true;
  }

  private allReady(): boolean {
    return [...this.workers].every((w) => w.state === 'ready');
  }

  private fail(result: Extract<BootResult, { ok: false }>): void {
    if (this.done) return;
    this.settle(result);
    this.options.onFailed(
      [...this.workers].filter((worker) => !worker.exited),
      result,
    );
  }

  private settle(result: BootResult): void {
    if (this.done) return;
    this.done = true;
    this.live = result.ok;
    this.resolve(result);
  }
}
