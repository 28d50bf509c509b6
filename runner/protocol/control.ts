/**
 * The control channel between the arbiter and each of its workers: newline-delimited JSON on
 * the worker's file descriptor 3 (a socketpair). It is deliberately language-neutral: the Node
 * runtime (runner/worker) and the Python runtime (runner/python) speak the same protocol.
 *
 * The arbiter validates every worker message with {@link parseWorkerMessage}: a worker runs
 * user code, so a malformed line is reported and skipped, never trusted.
 */
import * as s from './schema';
import {
  depsProfileSchema,
  errorInfoSchema,
  heldResourcesSchema,
  HOOK_OUTCOMES,
  inFlightRequestSchema,
  threadStackSchema,
} from './events';
import { parseLine } from './parse-line';

/** The fd on which a worker finds its control channel. */
export const CONTROL_FD = 3;
/** The fd of a worker's first listening socket; the others follow it (4, 5, ...). */
export const FIRST_LISTEN_FD = 4;

// ---- arbiter → worker ------------------------------------------------------------------

/** Sent once, right after spawn: who the worker is and what to run. */
const bootMessage = s.object({
  type: s.literal('boot'),
  id: s.integer(),
  generation: s.integer(),
  /** Absolute path of the app's entry module. */
  app: s.string(),
  /** The value the app sees in `PORT`; a listen() on it is served from `listenFds`. */
  port: s.string(),
  /** Inherited listening sockets, first one primary. */
  listenFds: s.array(s.integer()),
  /** Recycle after this many requests (0: never); jitter already applied. */
  maxRequests: s.integer(0),
  /** How long a stopping worker keeps SSE/WebSocket connections before closing them. */
  longLivedGraceMs: s.optional(s.integer(0)),
  /** Map stack traces through source maps (the app was transpiled from TypeScript). */
  sourceMaps: s.optional(s.boolean()),
  /**
   * Variables from the `--env-file` files, set before the app loads where the worker's own
   * environment (the arbiter's) does not set them already — Node's rule for its --env-file.
   */
  env: s.optional(s.record(s.string())),
  /** A beat is due at least this often; 0 disables the heartbeat (counters are still reported). */
  heartbeatMs: s.integer(0),
  /**
   * Source files this generation's cycle changed: a runtime compiles those of its language
   * before it loads the app (the Python runtime its `.py` files), so that a module the app only
   * imports on first use cannot hide a syntax error behind a boot that went fine.
   */
  check: s.optional(s.array(s.string())),
  /**
   * Accept nothing until an `accept` message: the worker loads its app, makes its listen() call
   * and says `ready`, but takes no connection from the shared socket until the old generation
   * has stopped accepting (a new generation's workers, in a graceful cycle). Connections wait in
   * the kernel's backlog meanwhile.
   */
  acceptOnCue: s.optional(s.boolean()),
  /** For the Python runtime: how to serve a `module:callable` app. */
  python: s.optional(
    s.object({
      /**
       * `rsgi`: an app in granian's protocol, served through its ASGI or WSGI face (granian is
       * not a server the runtime has), its `__rsgi_init__`/`__rsgi_del__` called around that.
       */
      interface: s.optional(s.oneOf(['wsgi', 'asgi', 'rsgi'])),
      workerClass: s.optional(s.oneOf(['sync', 'gthread', 'gevent'])),
      threads: s.optional(s.integer(1)),
      /** The user's gunicorn.conf.py (absolute). */
      config: s.optional(s.string()),
    }),
  ),
});

/** Stop: `graceful` drains then runs hooks; `quick` runs hooks without draining. */
const stopMessage = s.object({
  type: s.literal('stop'),
  mode: s.oneOf(['graceful', 'quick']),
  reason: s.string(),
});

/** Reopen log files (the arbiter got USR1). Delivered as a message, not a signal, because a
 * real SIGUSR1 would open Node's inspector. */
const reopenLogsMessage = s.object({ type: s.literal('reopen-logs') });

/** Open the inspector on 127.0.0.1 and a free port (again: report the one open). */
const inspectMessage = s.object({ type: s.literal('inspect') });

/**
 * Start accepting (a worker booted with `acceptOnCue`): every worker of the old generation has
 * said `closed` or is gone, so from now on no connection reaches old code. Sent to a worker that
 * is not ready yet too: it accepts as soon as it is.
 */
const acceptMessage = s.object({ type: s.literal('accept') });

/**
 * Sent to a standby, before its boot message: load these third-party modules now, in this order
 * (the serving generation's `dependencies`), so the generation it joins finds them loaded. The
 * Node runtime takes absolute file paths (required, or imported when they are ES modules); the
 * Python runtime takes module names. `env`: what the boot message will carry from --env-file,
 * set first (under the same rule), so a module that reads the environment as it loads sees the
 * app's. Answered with `preloaded`; a boot message that comes meanwhile waits for it.
 */
const preloadMessage = s.object({
  type: s.literal('preload'),
  modules: s.array(s.string()),
  env: s.optional(s.record(s.string())),
});

/**
 * Say what every thread is doing now: a deadline ran out and the worker is about to be killed or
 * aborted. Answered with `stacks` at once, from a thread that is not the app's (Python: the
 * channel's reader thread); a runtime whose reader is the stuck thread cannot answer, and the
 * arbiter goes on without it after a bounded wait.
 */
const stacksRequest = s.object({ type: s.literal('stacks') });

export const arbiterMessageSchema = s.tagged([
  bootMessage,
  stopMessage,
  reopenLogsMessage,
  inspectMessage,
  acceptMessage,
  preloadMessage,
  stacksRequest,
]);
export type ArbiterMessage = s.Infer<typeof arbiterMessageSchema>;
export type BootMessage = s.Infer<typeof bootMessage>;
export type PreloadMessage = s.Infer<typeof preloadMessage>;
export type StopMode = s.Infer<typeof stopMessage>['mode'];

/**
 * Whether a stop asked for in `next` mode changes one already in `current` mode (undefined: not
 * stopping). Stops only ever get closer: graceful can become quick, nothing goes back. The rule
 * for a worker, its runtime and the arbiter as a whole.
 */
export function stopChanges(current: StopMode | undefined, next: StopMode): boolean {
  return current === undefined || (current === 'graceful' && next === 'quick');
}

// ---- worker → arbiter ------------------------------------------------------------------

/**
 * What only the worker sees of its boot, in ms from the moment it took its boot message. The
 * parts do not overlap; `bootMs` covers them and the runtime's own set-up.
 */
const workerBootProfile = s.object({
  /** From the boot message to ready. */
  bootMs: s.number(),
  deps: depsProfileSchema,
  /** Loading the app's own modules, less the third-party modules they loaded. */
  codeMs: s.number(),
  /** From the app loaded until it listened, less the third-party modules loaded meanwhile. */
  listenMs: s.number(),
});
export type WorkerBootProfile = s.Infer<typeof workerBootProfile>;

/**
 * The app serves on the shared sockets (or called `arbiter.ready()` where it opted in). A worker
 * booted with `acceptOnCue` says it once its app asked to listen: it accepts at its `accept`.
 */
const readyMessage = s.object({ type: s.literal('ready'), profile: s.optional(workerBootProfile) });

/** Alive; carries request counters (`served`: finished) so no separate stats message is needed.
 * Sent every `heartbeatMs`, in between when the counters changed (at most once a second), and
 * once more as the worker exits. */
const heartbeatMessage = s.object({
  type: s.literal('heartbeat'),
  served: s.integer(0),
  inflight: s.integer(0),
});

/**
 * Its first response finished, at `at` (epoch ms): sent once, so that a reload can say when the
 * new code first answered, not only when it could.
 */
const firstResponseMessage = s.object({ type: s.literal('first-response'), at: s.number() });

/** The app could not be loaded (threw at import, syntax error, no server and no handler). */
const bootErrorMessage = s.object({ type: s.literal('boot-error'), error: errorInfoSchema });

/** An uncaught error is about to end the worker; sent before Node prints it and exits. */
const fatalMessage = s.object({ type: s.literal('fatal'), error: errorInfoSchema });

/** A worker-side hook run: the app's signal/beforeExit handlers and `onShutdown` hooks. */
const hookMessage = s.object({
  type: s.literal('hook'),
  /** Stable per run: pairs the start with its end. */
  run: s.integer(),
  name: s.string(),
  phase: s.oneOf(['start', 'end']),
  outcome: s.optional(s.oneOf(HOOK_OUTCOMES)),
  durationMs: s.optional(s.number()),
  error: s.optional(s.string()),
});

/**
 * The worker got a stop message and is acting on it. Without this answer the arbiter sends the
 * stop's signal as well, for a worker that does not read its channel (frozen, or a runtime
 * that never will); with it, no signal is needed, and none is sent — a signal that arrives
 * while Node is tearing the process down kills it, even with handlers installed.
 */
const stoppingMessage = s.object({ type: s.literal('stopping'), mode: s.oneOf(['graceful', 'quick']) });

/**
 * The worker accepts no more connections: its listeners are closed, or its engine's accept loop
 * has ended. Sent once, during a stop, as soon as that is true; connections it accepted before
 * are still served. A reload is announced complete only once every old worker said it (or
 * exited), so that no connection made after that reaches the old code.
 */
const closedMessage = s.object({
  type: s.literal('closed'),
  /** The request counters as it stopped accepting (a reload's swap counts from here). */
  served: s.integer(0),
  inflight: s.integer(0),
});

/** The worker asks to be replaced (it reached max-requests). */
const retireMessage = s.object({ type: s.literal('retire'), reason: s.string() });

/** The worker has drained and finished its hooks but something keeps it alive. */
const lingeringMessage = s.object({ type: s.literal('lingering'), resources: s.array(s.string()) });

/**
 * What the worker holds open: `stop` as its stop begins, `exit` after its hooks, just before it
 * exits. Read from /proc/self, leaving out the runtime's own (stdio, this channel, the shared
 * listening sockets).
 */
const resourcesMessage = s.object({
  type: s.literal('resources'),
  at: s.oneOf(['stop', 'exit']),
  held: heldResourcesSchema,
});

/** The most in-flight requests one report lists (the oldest). */
export const IN_FLIGHT_LIST_LIMIT = 20;

/**
 * While it drains: the requests the worker still serves, oldest first (at most
 * IN_FLIGHT_LIST_LIMIT; `total` counts all). Sent as its stop begins if any are in flight, every
 * second while any remain, and once more, empty, when the last one ended.
 */
const requestsMessage = s.object({
  type: s.literal('requests'),
  requests: s.array(inFlightRequestSchema),
  total: s.integer(0),
});

/** Something the runtime wants the user to read (shown in the log with the worker prefix). */
const noticeMessage = s.object({
  type: s.literal('notice'),
  level: s.oneOf(['info', 'warn']),
  message: s.string(),
});

/** Its inspector is open (url, port), or could not be opened (error). */
const inspectorMessage = s.object({
  type: s.literal('inspector'),
  url: s.optional(s.string()),
  port: s.optional(s.integer(1, 65535)),
  error: s.optional(s.string()),
});

/**
 * The third-party modules this worker loaded, in load order: sent by a serving worker once it
 * is ready, and once more a little later if it loaded more (its first requests). Node: absolute
 * real paths of files inside a `node_modules` folder (CommonJS and ES modules); Python: module
 * names whose file is under site-packages/dist-packages. Never the project's own files (a
 * linked workspace package is the project's). The arbiter preloads them into its standbys.
 */
const dependenciesMessage = s.object({ type: s.literal('dependencies'), modules: s.array(s.string()) });

/**
 * A standby's answer to `preload`: how many modules it loaded and how long it took (ms); `failed`:
 * those that threw (the standby is then replaced, and they are preloaded no more).
 */
const preloadedMessage = s.object({
  type: s.literal('preloaded'),
  loaded: s.integer(0),
  ms: s.number(),
  failed: s.optional(s.array(s.object({ module: s.string(), error: s.string() }))),
  /** Modules the runtime chose not to load ahead (Python: those that need the app's settings at import). */
  skipped: s.optional(s.integer(0)),
});

/**
 * What the worker's threads are doing, innermost frame first, the runtime's own threads and
 * frames left out: the answer to `stacks`. The Node runtime also sends it unasked, from its
 * stall watcher thread, once the main thread has been busy for half the heartbeat timeout (at
 * least STALL_REPORT_MS, at most 5 s; `stalledMs`: for how long): its main thread cannot answer then. `unavailable`: why no stack was read.
 */
const stacksMessage = s.object({
  type: s.literal('stacks'),
  threads: s.array(threadStackSchema),
  stalledMs: s.optional(s.number()),
  unavailable: s.optional(s.string()),
});

/** The shortest a Node worker's main thread is busy before its stall watcher reads its stack. */
export const STALL_REPORT_MS = 1_000;

export const workerMessageSchema = s.tagged([
  readyMessage,
  heartbeatMessage,
  firstResponseMessage,
  bootErrorMessage,
  fatalMessage,
  hookMessage,
  stoppingMessage,
  closedMessage,
  retireMessage,
  lingeringMessage,
  resourcesMessage,
  requestsMessage,
  noticeMessage,
  inspectorMessage,
  dependenciesMessage,
  preloadedMessage,
  stacksMessage,
]);
export type WorkerMessage = s.Infer<typeof workerMessageSchema>;
export type HookMessage = s.Infer<typeof hookMessage>;
export type PreloadedMessage = s.Infer<typeof preloadedMessage>;
export type StacksMessage = s.Infer<typeof stacksMessage>;
export type DependenciesMessage = s.Infer<typeof dependenciesMessage>;

/** Validates a line a worker wrote. */
export const parseWorkerMessage = (line: string) => parseLine(workerMessageSchema, line);
/** Validates a line the arbiter wrote. */
export const parseArbiterMessage = (line: string) => parseLine(arbiterMessageSchema, line);
