/**
 * A worker's lifecycle as one pure transition function, so that the whole table can be read
 * (and tested) in one place:
 *
 *   booting ──ready──▶ ready ──stop──▶ draining ──exit──▶ exited
 *      │                 │                │
 *      ├─exit/boot-timeout─▶ boot-failed  ├─stop-timeout─▶ killed
 *      │                 ├─exit─▶ crashed (exited if clean) │
 *      └─────────────────┴─heartbeat-timeout─▶ timed-out ◀──┘
 *
 *   and from booting, ready or draining, kill (asked for by the user) ─▶ killed
 */
import type { WorkerState } from '../../protocol/events';

export type LifecycleInput =
  | { kind: 'ready' }
  /** The arbiter asked the worker to stop (graceful or quick). */
  | { kind: 'stop' }
  | { kind: 'boot-timeout' }
  | { kind: 'heartbeat-timeout' }
  /** The stop deadline passed: the worker is being killed. */
  | { kind: 'stop-timeout' }
  /** Someone asked for the worker to be killed now (Kill Worker, Kill Now in the editor). */
  | { kind: 'kill' }
  /** The process ended; `clean` is exit code 0 with no signal. */
  | { kind: 'exit'; clean: boolean };

/** States from which no input leads anywhere else. */
export const FINAL_STATES: ReadonlySet<WorkerState> = new Set([
  'exited',
  'boot-failed',
  'crashed',
  'timed-out',
  'killed',
]);

/** States in which the worker counts towards the generation's live workers. */
export const LIVE_STATES: ReadonlySet<WorkerState> = new Set(['booting', 'ready']);

/**
 * The state after `input`, or `undefined` when the input does not apply (a late `ready` from a
 * worker already being killed, a second exit): the caller ignores those.
 */
export function transition(state: WorkerState, input: LifecycleInput): WorkerState | undefined {
  switch (state) {
    case 'booting':
      switch (input.kind) {
        case 'ready':
          return 'ready';
        case 'stop':
          return 'draining';
        case 'boot-timeout':
        case 'exit':
          return 'boot-failed';
        case 'heartbeat-timeout':
          return 'timed-out';
        case 'kill':
          return 'killed';
        case 'stop-timeout':
          return undefined; // a booting worker has no stop deadline
      }
      break;
    case 'ready':
      switch (input.kind) {
        case 'stop':
          return 'draining';
        case 'heartbeat-timeout':
          return 'timed-out';
        case 'exit':
          return input.clean ? 'exited' : 'crashed';
        case 'kill':
          return 'killed';
        case 'ready':
        case 'boot-timeout':
        case 'stop-timeout':
          return undefined; // late: it is ready already, and not stopping
      }
      break;
    case 'draining':
      switch (input.kind) {
        case 'exit':
          return 'exited';
        case 'stop-timeout':
        case 'kill':
          return 'killed';
        case 'heartbeat-timeout':
          return 'timed-out';
        case 'ready':
        case 'boot-timeout':
        case 'stop':
          return undefined; // a stopping worker is bounded by its stop deadline; a second stop is an escalation (worker-control.ts)
      }
      break;
    case 'exited':
    case 'boot-failed':
    case 'crashed':
    case 'timed-out':
    case 'killed':
      return undefined;
  }
}
