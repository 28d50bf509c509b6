/**
 * Arbiter-side hooks, set in the config file: gunicorn's server hooks in TypeScript naming.
 * Each run is reported as a `hook` event; a hook that throws or hangs is reported and the
 * arbiter goes on.
 */

/** What every hook gets: who the arbiter is and where it listens. */
export type ArbiterInfo = {
  pid: number;
  app: string;
  workers: number;
  listeners: string[];
};

/** A worker, as hooks see it. */
export type WorkerInfo = { id: number; pid: number; generation: number };

/** What ended a worker, for `workerExit` and `childExit`. */
export type WorkerExitInfo = WorkerInfo & {
  code: number | null;
  signal: string | null;
  state: string;
  reason: string;
};

type Awaitable = void | Promise<void>;

export type ArbiterHooks = {
  /** Before the sockets are bound and the first worker starts. */
  onStarting?: (arbiter: ArbiterInfo) => Awaitable;
  /** Once the first generation is serving. */
  whenReady?: (arbiter: ArbiterInfo) => Awaitable;
  /** When a graceful cycle starts (HUP, file change, editor command). */
  onReload?: (arbiter: ArbiterInfo, cycle: { generation: number; trigger: string }) => Awaitable;
  /** Just before a worker process is started (its pid does not exist yet). */
  preFork?: (arbiter: ArbiterInfo, worker: { id: number; generation: number }) => Awaitable;
  /** Just after a worker process is started. */
  postFork?: (arbiter: ArbiterInfo, worker: WorkerInfo) => Awaitable;
  /** After a worker that was asked to stop has exited. */
  workerExit?: (arbiter: ArbiterInfo, worker: WorkerExitInfo) => Awaitable;
  /** After any worker process has exited, asked or not (crashes too). */
  childExit?: (arbiter: ArbiterInfo, worker: WorkerExitInfo) => Awaitable;
  /** When the target number of workers changed (TTIN, TTOU). */
  workersChanged?: (arbiter: ArbiterInfo, change: { from: number; to: number }) => Awaitable;
  /** Just before the arbiter exits. */
  onExit?: (arbiter: ArbiterInfo) => Awaitable;
};

export type HookName = keyof ArbiterHooks;

export const HOOK_NAMES: readonly HookName[] = [
  'onStarting',
  'whenReady',
  'onReload',
  'preFork',
  'postFork',
  'workerExit',
  'childExit',
  'workersChanged',
  'onExit',
];
