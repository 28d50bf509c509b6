/**
 * What a stuck worker was doing, read just before it is killed or aborted: the arbiter asks
 * (`stacks`), waits at most STACKS_WAIT_MS for the answer, and goes on without it. A Node
 * worker's main thread cannot answer while it is the stuck one; its stall watcher thread sends
 * what it read unasked instead, and that report stands until the main thread speaks again.
 */
import type { StacksMessage } from '../../protocol/control';
import type { ThreadStack } from '../../protocol/events';
import type { WorkerProcess } from './worker-process';

/** The longest a kill or abort waits for a worker to say what it is doing. */
export const STACKS_WAIT_MS = 300;

/** What was read of a stuck worker: its threads' stacks, or why there are none. */
export type CapturedStacks = { threads: ThreadStack[]; unavailable?: string };

/** Why there is no stack when the worker neither answered nor reported a stall. */
export const NO_ANSWER = `no answer within ${STACKS_WAIT_MS} ms, and no stall report from its runtime`;

/** Why there is none when the worker's inspector is open: its stall watcher stops then (stall-watch.ts). */
export const INSPECTOR_OPEN =
  'its inspector is open, so its stall watcher leaves it alone (a debugger may hold it at a breakpoint): the debugger attached to it shows where it is';

export class StackCapture {
  /** Workers whose inspector is open. */
  private readonly inspecting = new WeakSet<WorkerProcess>();

  /** `worker`'s inspector opened: its runtime's stall watcher has stopped. */
  inspectorOpened(worker: WorkerProcess): void {
    this.inspecting.add(worker);
  }

  private readonly waiting = new Map<WorkerProcess, (answer: StacksMessage) => void>();
  /** A Node worker's unasked stall reports, each until its main thread is heard from again. */
  private readonly stalled = new Map<WorkerProcess, StacksMessage>();

  /** Whether a capture for `worker` is under way (a deadline that fires again waits for it). */
  capturing(worker: WorkerProcess): boolean {
    return this.waiting.has(worker);
  }

  /** Asks `worker` what it is doing; resolves with what it said, its stall report, or why neither. */
  capture(worker: WorkerProcess): Promise<CapturedStacks> {
    return new Promise((resolve) => {
      const done = (answer: CapturedStacks): void => {
        clearTimeout(timer);
        this.waiting.delete(worker);
        resolve(answer);
      };
      const timer = setTimeout(() => {
        const stall = this.stalled.get(worker);
        const unavailable = this.inspecting.has(worker) ? INSPECTOR_OPEN : NO_ANSWER;
        done(stall ? captured(stall) : { threads: [], unavailable });
      }, STACKS_WAIT_MS);
      this.waiting.set(worker, (answer) => done(captured(answer)));
      worker.send({ type: 'stacks' });
    });
  }

  /** `worker` said what its threads do: the answer to a capture, or (unasked) a stall report. */
  received(worker: WorkerProcess, message: StacksMessage): void {
    const waiting = this.waiting.get(worker);
    if (message.stalledMs !== undefined) this.stalled.set(worker, message);
    waiting?.(message);
  }

  /** Something came from `worker`'s main thread: it is not stalled any more. */
  heard(worker: WorkerProcess): void {
    this.stalled.delete(worker);
  }

  /** The worker is gone. */
  forget(worker: WorkerProcess): void {
    this.stalled.delete(worker);
    this.waiting.delete(worker);
  }
}

function captured(message: StacksMessage): CapturedStacks {
  return {
    threads: message.threads,
    ...(message.unavailable !== undefined ? { unavailable: message.unavailable } : {}),
  };
}
