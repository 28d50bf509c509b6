/**
 * Commands to the arbiter from the tool that started it (the VS Code extension), one JSON
 * object a line on its stdin when it runs with `--stdin-commands`. They do what a signal to a
 * worker would, but through the arbiter, so that it knows who asked: a worker killed from the
 * editor is `killed` with the reason given, not `crashed`, and the signal shows in the event
 * stream. Validated like every other input: a bad line is reported and skipped.
 */
import * as s from './schema';
import { parseLine, type ParseResult } from './parse-line';

/** The signals a worker may be sent on request; the arbiter gives the stopping ones their meaning. */
export const WORKER_SIGNALS = [
  'SIGTERM',
  'SIGINT',
  'SIGQUIT',
  'SIGHUP',
  'SIGUSR2',
  'SIGABRT',
  'SIGKILL',
] as const;

/**
 * A signal to one worker. SIGTERM is a graceful stop and SIGINT/SIGQUIT a quick one (the worker
 * drains and runs its hooks, a replacement boots); SIGKILL kills its process group at once; the
 * others are delivered as they are.
 */
const signalWorker = s.object({
  type: s.literal('signal-worker'),
  pid: s.integer(1),
  signal: s.oneOf(WORKER_SIGNALS),
  /** Why, as the event stream and the log will say it. */
  reason: s.optional(s.string()),
});

/** Kill every worker of a generation now (a drain the user will not wait for). */
const killGeneration = s.object({
  type: s.literal('kill-generation'),
  generation: s.integer(1),
  reason: s.optional(s.string()),
});

/**
 * Open a worker's inspector (on 127.0.0.1, a free port; reported as a `worker.inspector`
 * event), or, without a pid, every worker's — and every later worker's too.
 */
const inspect = s.object({ type: s.literal('inspect'), pid: s.optional(s.integer(1)) });

/** A debugger stopped a worker at a breakpoint, or let it go: its deadlines wait meanwhile. */
const debuggerState = s.object({ type: s.literal('debugger'), pid: s.integer(1), paused: s.boolean() });

export const arbiterCommandSchema = s.tagged([signalWorker, killGeneration, inspect, debuggerState]);
export type ArbiterCommand = s.Infer<typeof arbiterCommandSchema>;

export function parseCommand(line: string): ParseResult<ArbiterCommand> {
  return parseLine(arbiterCommandSchema, line);
}
