/**
 * The event stream: what the arbiter tells tools (the VS Code extension, `--events FILE`
 * followers). One JSON object per line, each with `v` (protocol version), `type` and `ts`
 * (milliseconds since the epoch). Fields beyond the ones typed here may appear and are kept.
 *
 * Written by the arbiter only; read by the extension, tests and any tool that follows the
 * file. Readers validate every line with {@link parseEvent} and skip what does not parse.
 * See docs/events.md for the prose version of this vocabulary.
 */
import * as s from './schema';
import { parseLine, type ParseResult } from './parse-line';
import {
  bootProfileSchema,
  HOOK_OUTCOMES,
  WORKER_STATES,
  errorInfoSchema,
  heldResourcesSchema,
  inFlightRequestSchema,
  listenerSchema,
  threadStackSchema,
} from './event-parts';

export * from './event-parts';

/** Bumped when a field changes meaning or disappears; additions do not bump it. */
export const EVENT_PROTOCOL_VERSION = 1;

const base = { v: s.integer(), ts: s.number() };
const workerRef = {
  id: s.integer(1),
  pid: s.integer(1),
  generation: s.integer(1),
};

/** The arbiter has its sockets bound and is about to boot the first generation. */
const arbiterStarted = s.object({
  ...base,
  type: s.literal('arbiter.started'),
  pid: s.integer(1),
  listeners: s.array(listenerSchema),
  /** The cgroup v2 folder holding a cgroup per worker, where the arbiter could make one. */
  cgroup: s.optional(s.string()),
  config: s.object({
    app: s.string(),
    workers: s.integer(),
    gracefulTimeout: s.number(),
    timeout: s.number(),
    bootTimeout: s.number(),
    maxRequests: s.integer(0),
  }),
});

/** A worker process was started for `generation`. */
const workerSpawned = s.object({ ...base, type: s.literal('worker.spawned'), ...workerRef });

/** A worker moved to `state`; `deadline` (epoch ms) is set while it drains. */
const workerStateEvent = s.object({
  ...base,
  type: s.literal('worker.state'),
  ...workerRef,
  state: s.oneOf(WORKER_STATES),
  reason: s.string(),
  deadline: s.optional(s.number()),
});

/** A worker process ended; `state` is its final state. */
const workerExited = s.object({
  ...base,
  type: s.literal('worker.exited'),
  ...workerRef,
  code: s.nullable(s.integer()),
  signal: s.nullable(s.string()),
  state: s.oneOf(WORKER_STATES),
  reason: s.string(),
});

/** Requests a worker has served (finished) and has in flight, sent when they change (at most 1/s, and as it exits). */
const workerStats = s.object({
  ...base,
  type: s.literal('worker.stats'),
  ...workerRef,
  served: s.integer(),
  inflight: s.integer(),
  /** Its counters as it stopped accepting (said even when unchanged). */
  closed: s.optional(s.boolean()),
});

/** A worker finished its shutdown work but something (a socket, a timer) still keeps it alive. */
const workerLingering = s.object({
  ...base,
  type: s.literal('worker.lingering'),
  ...workerRef,
  resources: s.array(s.string()),
});

/**
 * What a worker held open: `stop` when its stop began, `exit` just before it exited (after its
 * hooks: what is still open then was never closed), `kill` read by the arbiter from /proc just
 * before it killed a worker that did not exit in time. Comparing `stop` with `exit` or `kill`
 * shows a pool that was (or was not) closed.
 */
const workerResources = s.object({
  ...base,
  type: s.literal('worker.resources'),
  ...workerRef,
  at: s.oneOf(['stop', 'exit', 'kill']),
  held: heldResourcesSchema,
});

/**
 * What a worker was doing when a deadline ran out (`stop-timeout`: its graceful or quick stop's;
 * `heartbeat-timeout`), read just before it was killed or aborted: every thread's stack
 * (Python), or the main thread's as a watcher thread read it through the inspector (Node).
 * `unavailable` says why there is no stack (the worker did not answer in time, or its runtime
 * cannot read it); `lingering` is what the worker last said keeps it alive.
 */
const workerStacks = s.object({
  ...base,
  type: s.literal('worker.stacks'),
  ...workerRef,
  at: s.oneOf(['stop-timeout', 'heartbeat-timeout']),
  threads: s.array(threadStackSchema),
  unavailable: s.optional(s.string()),
  lingering: s.optional(s.array(s.string())),
});

/**
 * Which requests a draining worker waits on (`draining`: at its stop, then every second while
 * any remain, then once with none), or which ones its kill cut (`cut`: those of its last report,
 * their ages brought up to the kill). `requests` lists the oldest, at most 20; `total` counts all.
 */
const workerRequests = s.object({
  ...base,
  type: s.literal('worker.requests'),
  ...workerRef,
  at: s.oneOf(['draining', 'cut']),
  requests: s.array(inFlightRequestSchema),
  total: s.integer(0),
});

/**
 * A worker's inspector is open, on 127.0.0.1 and a port of its own (`--inspect`, or the editor
 * asked), or could not be opened (`error`). A debugger attaches to `port`.
 */
const workerInspector = s.object({
  ...base,
  type: s.literal('worker.inspector'),
  ...workerRef,
  url: s.optional(s.string()),
  port: s.optional(s.integer(1, 65535)),
  error: s.optional(s.string()),
});

/** A debugger stopped the worker at a breakpoint (`paused`) or let it go: its deadlines wait meanwhile. */
const workerPaused = s.object({
  ...base,
  type: s.literal('worker.paused'),
  ...workerRef,
  paused: s.boolean(),
});

/**
 * A signal the arbiter received (`pid` is its own), or sent to a worker (`pid` is the target,
 * and `id`, `generation` say which worker, as on every worker event).
 */
const signalEvent = s.object({
  ...base,
  type: s.literal('signal'),
  direction: s.oneOf(['received', 'sent']),
  signal: s.string(),
  pid: s.integer(),
  reason: s.string(),
  id: s.optional(s.integer()),
  generation: s.optional(s.integer()),
  /**
   * How a signal sent to a worker travelled: `message` — as a stop on its control channel,
   * where the worker runtime runs the app's handlers for that signal; `os` — as a real signal.
   */
  via: s.optional(s.oneOf(['message', 'os'])),
});

/**
 * One run of a hook: a `start` and later an `end` with outcome and duration. A worker's hook
 * carries the worker's `id` and `generation` as every worker event does; `pid` is the process
 * the hook ran in (the arbiter's, for an arbiter hook).
 */
const hookEvent = s.object({
  ...base,
  type: s.literal('hook'),
  scope: s.oneOf(['arbiter', 'worker']),
  pid: s.integer(),
  id: s.optional(s.integer()),
  generation: s.optional(s.integer()),
  name: s.string(),
  phase: s.oneOf(['start', 'end']),
  outcome: s.optional(s.oneOf(HOOK_OUTCOMES)),
  durationMs: s.optional(s.number()),
  error: s.optional(s.string()),
});

/**
 * A graceful cycle: `triggered`, then `completed` or `failed`, or `superseded` — stopped before
 * its generation went live, because a newer change came (that change's cycle follows at once).
 */
const reloadEvent = s.object({
  ...base,
  type: s.literal('reload'),
  phase: s.oneOf(['triggered', 'completed', 'failed', 'superseded']),
  generation: s.integer(),
  trigger: s.string(),
  files: s.optional(s.array(s.string())),
  /** The variables of the `--env-file` files this cycle changed, added or removed (names only, never values). */
  env: s.optional(s.array(s.string())),
  durationMs: s.optional(s.number()),
  error: s.optional(errorInfoSchema),
  /**
   * `completed`: how many of the new generation's `workers` were ready when it went live. It goes
   * live at its first ready worker; the rest join as they boot (a later one that fails to boot is
   * a worker boot failure, replaced with backoff, not a failed reload).
   */
  ready: s.optional(s.integer(0)),
  workers: s.optional(s.integer(0)),
  /** `completed`: where the new generation's boot spent its time. */
  profile: s.optional(bootProfileSchema),
});

/**
 * A reload's swap is over: its generation went live and the last worker of the older ones has
 * exited. What each side served meanwhile (`oldServed`, `newServed`: as the workers last
 * reported, at most a second behind for the new one), and how many requests the kill of an old
 * worker cut (`cut`: 0 is a swap that lost nothing on the server's side).
 */
const reloadSwap = s.object({
  ...base,
  type: s.literal('reload.swap'),
  generation: s.integer(),
  oldWorkers: s.integer(0),
  oldServed: s.integer(0),
  newServed: s.integer(0),
  cut: s.integer(0),
  durationMs: s.integer(0),
});

/**
 * A reload's new code answered for the first time: a worker of `generation` finished its first
 * response `ms` after the save (the boot profile's start: the batch's first file event, else
 * the trigger), `afterLiveMs` after the generation went live. Once per reload; not sent when
 * no request came before the next reload.
 */
const reloadFirstResponse = s.object({
  ...base,
  type: s.literal('reload.first-response'),
  generation: s.integer(1),
  worker: s.integer(1),
  ms: s.number(),
  afterLiveMs: s.number(),
});

/** The target number of workers changed (TTIN, TTOU, config). */
const workersCount = s.object({
  ...base,
  type: s.literal('arbiter.workers'),
  count: s.integer(),
  reason: s.string(),
});

/** The watcher's first walk is done: from now on every change under `root` counts. */
const watcherReady = s.object({
  ...base,
  type: s.literal('watcher.ready'),
  root: s.string(),
  files: s.integer(0),
  folders: s.integer(0),
  /** Folders the kernel would not watch (past the inotify limit), polled instead. */
  polled: s.optional(s.integer(0)),
  durationMs: s.integer(0),
});

/**
 * A file whose changes no longer start a cycle, and why: a SQLite database (data, not source),
 * or a file that changed while each of the last 3 cycles booted (a reload loop).
 */
const watcherIgnored = s.object({
  ...base,
  type: s.literal('watcher.ignored'),
  file: s.string(),
  reason: s.string(),
});

/**
 * A standby worker process (started ahead of the next cycle, no app loaded yet) started,
 * preloaded the app's third-party modules, or ended unused. One that becomes a worker is not `ended`: a `worker.spawned` with its pid follows.
 */
const standbyEvent = s.object({
  ...base,
  type: s.literal('standby'),
  pid: s.integer(1),
  /** `preloaded`: it loaded `modules` of the serving generation's third-party modules, in `ms`. */
  phase: s.oneOf(['started', 'preloaded', 'ended'] as const),
  reason: s.optional(s.string()),
  modules: s.optional(s.integer(0)),
  ms: s.optional(s.number()),
});

/**
 * Where a worker's third-party modules came from, said once per worker as it is given its boot
 * message: `warm`, preloaded into its standby (`modules` of them, in `ms`, before it was
 * needed), or cold, loaded by the app itself, and why (`reason`: none learned yet, a lockfile
 * or `node_modules` changed, a preloaded module failed, preloading is off, no standby...).
 */
const workerDeps = s.object({
  ...base,
  type: s.literal('worker.deps'),
  ...workerRef,
  warm: s.boolean(),
  modules: s.integer(0),
  ms: s.optional(s.number()),
  reason: s.optional(s.string()),
});

/**
 * Written to one target only, as the first line it gets after it could not keep up (its
 * reader fell too far behind or went away, its disk was full): `dropped` events from `since`
 * (epoch ms) on never reached it, for `reason`. What a follower built from the stream may be
 * out of date until it next hears of each worker.
 */
const eventsGap = s.object({
  ...base,
  type: s.literal('events.gap'),
  dropped: s.integer(1),
  since: s.number(),
  reason: s.string(),
});

/** The arbiter is gone; nothing follows this line. */
const arbiterExited = s.object({
  ...base,
  type: s.literal('arbiter.exited'),
  code: s.integer(),
  reason: s.string(),
});

export const eventSchema = s.tagged([
  arbiterStarted,
  workerSpawned,
  workerStateEvent,
  workerExited,
  workerStats,
  workerLingering,
  workerResources,
  workerStacks,
  workerRequests,
  workerInspector,
  workerPaused,
  signalEvent,
  hookEvent,
  reloadEvent,
  reloadSwap,
  reloadFirstResponse,
  workersCount,
  standbyEvent,
  workerDeps,
  watcherReady,
  watcherIgnored,
  eventsGap,
  arbiterExited,
]);

/** Any event of the stream. */
export type ArbiterEvent = s.Infer<typeof eventSchema>;
export type ArbiterEventType = ArbiterEvent['type'];
/** The event of one `type`. */
export type EventOf<T extends ArbiterEventType> = Extract<ArbiterEvent, { type: T }>;
/** What a producer supplies: the envelope (`v`, `ts`) is added by the sink. */
export type EventBody = ArbiterEvent extends infer E
  ? E extends ArbiterEvent
    ? Omit<E, 'v' | 'ts'>
    : never
  : never;

/** Parses one line of the stream; returns an error string instead of throwing. */
export const parseEvent = (line: string): ParseResult<ArbiterEvent> => parseLine(eventSchema, line);
