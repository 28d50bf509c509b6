/**
 * The shapes events carry (protocol/events.ts): a worker's states, a hook's outcomes, a
 * listener, an error's position, what a worker holds, a thread's stack, a request in flight,
 * and a generation's boot profile. Each schema validates on input; each type is inferred from it.
 */
import * as s from './schema';
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
