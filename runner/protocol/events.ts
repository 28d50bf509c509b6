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

/** Bumped when a field changes meaning or disappears; additions do not bump it. */
export const EVENT_PROTOCOL_VERSION = 1;

/** Every state a worker can be in; the failure ends are `boot-failed` onwards. */
export const WORKER_STATES = [
  'booting',
  'ready',
  'draining',
  'exited',
  'boot-failed',
  'crashed',
  'timed-out',
  'killed',
] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

/** How a hook run ended. `interrupted`: the process exited on its own before it finished. */
export const HOOK_OUTCOMES = ['ok', 'error', 'timeout', 'killed', 'interrupted'] as const;
export type HookOutcome = (typeof HOOK_OUTCOMES)[number];

const base = { v: s.integer(), ts: s.number() };
const workerRef = {
  id: s.integer(1),
  pid: s.integer(1),
  generation: s.integer(1),
};

/** A listening address: TCP (`host`, `port`) or a Unix socket (`path`). */
export const listenerSchema = s.union(
  s.object({ host: s.string(), port: s.integer(0, 65535) }),
  s.object({ path: s.string() }),
);
export type Listener = { host: string; port: number } | { path: string };

/** A source position, as reported for boot and reload failures. */
export const errorInfoSchema = s.object({
  message: s.string(),
  stack: s.optional(s.string()),
  file: s.optional(s.string()),
  line: s.optional(s.integer()),
  column: s.optional(s.integer()),
});
export type ErrorInfo = s.Infer<typeof errorInfoSchema>;

/** The most a resources snapshot lists of each kind; the totals say how many there were. */
export const HELD_LIST_LIMIT = 50;

/**
 * What a worker process held open at one moment (runner/proc/held-resources.ts): TCP
 * connections grouped by peer, with the service named for well-known ports (Redis 6379,
 * PostgreSQL 5432, ...), the sockets it listens on itself (not the arbiter's shared ones),
 * regular files, child processes; the Python runtime adds the threads still alive besides the
 * main one.
 */
export const heldResourcesSchema = s.object({
  connections: s.array(s.object({ peer: s.string(), service: s.optional(s.string()), count: s.integer(1) })),
  listening: s.array(s.string()),
  /** At most HELD_LIST_LIMIT paths; `openFiles` counts them all. */
  files: s.array(s.string()),
  openFiles: s.integer(0),
  children: s.array(s.object({ pid: s.integer(1), command: s.string() })),
  threads: s.optional(s.array(s.object({ name: s.string(), daemon: s.boolean() }))),
  /** Why nothing could be read (not Linux, the process already gone). */
  unreadable: s.optional(s.string()),
});
export type HeldResources = s.Infer<typeof heldResourcesSchema>;

/** One frame of a worker thread's stack: its file (a path or a URL), 1-based line, function and source line. */
export const stackFrameSchema = s.object({
  file: s.string(),
  line: s.integer(0),
  function: s.string(),
  source: s.optional(s.string()),
});
export type StackFrame = s.Infer<typeof stackFrameSchema>;

/** At most this many frames of one thread are sent, innermost first. */
export const STACK_FRAME_LIMIT = 40;

/**
 * What one thread of a worker was doing: its frames innermost first (at most STACK_FRAME_LIMIT),
 * the runtime's own frames left out. `main`: the process's main thread.
 */
export const threadStackSchema = s.object({
  name: s.string(),
  daemon: s.optional(s.boolean()),
  main: s.optional(s.boolean()),
  frames: s.array(stackFrameSchema),
});
export type ThreadStack = s.Infer<typeof threadStackSchema>;

/** A request a worker is serving: its method, its path without the query, and how long ago it came. */
export const inFlightRequestSchema = s.object({ method: s.string(), path: s.string(), ageMs: s.integer(0) });
export type InFlightRequest = s.Infer<typeof inFlightRequestSchema>;
/**
 * The app's third-party modules (node_modules, site-packages) in a boot: `warm` when they were
 * already loaded in the standby the worker came from (`modules`: how many), else loaded during
 * the boot (`modules` then counts those, `ms` the time spent loading them). Without `ms` the
 * time was not told apart from the app's own (ES modules: their evaluation is not observable).
 */
export const depsProfileSchema = s.object({
  warm: s.boolean(),
  modules: s.optional(s.integer(0)),
  ms: s.optional(s.number()),
});
export type DepsProfile = s.Infer<typeof depsProfileSchema>;

/**
 * Where a generation's boot spent its time, from its first ready worker (the one that made the
 * save live). Every part is in ms and their sum never exceeds `liveMs`; what is left is the
 * cycle's own work (re-reading config, the onReload hook, syntax checks, messages).
 */
export const bootProfileSchema = s.object({
  /** From the first file event of the batch (else the trigger) until the first new worker was ready. */
  liveMs: s.number(),
  /** The batch: from its first file event until it closed. */
  batchMs: s.optional(s.number()),
  /** The TypeScript build (absent for plain JavaScript and Python). */
  buildMs: s.optional(s.number()),
  /** Files the decorator-metadata compiler (swc) transformed anew in that build; the others were cached. */
  transformed: s.optional(s.integer(0)),
  /** Taking a standby (`warm`) or starting a process (cold), until the runtime took its boot message. */
  process: s.object({ warm: s.boolean(), ms: s.number() }),
  deps: s.optional(depsProfileSchema),
  /** Loading the project's own code, less the third-party modules it loaded meanwhile. */
  codeMs: s.optional(s.number()),
  /** From the app loaded until it listened (the framework's start), less third-party loading. */
  listenMs: s.optional(s.number()),
  /** The worker whose ready made the generation live. */
  worker: s.optional(s.integer(1)),
});
export type BootProfile = s.Infer<typeof bootProfileSchema>;

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
