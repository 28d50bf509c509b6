/**
 * One runner started on one prepared app, seen the same way whatever it is: the port it serves,
 * how many times the app's shutdown hook printed its mark, the processes whose memory counts,
 * and a stop that leaves nothing behind. The arbiter is started through its built CLI
 * (bench/arbiter-server.ts), the peers as commands in groups of their own (./processes.ts).
 */
import { execFileSync } from 'node:child_process';
import type { Readable } from 'node:stream';
import { LineSplitter } from '../../runner/protocol/line-splitter';
import { ArbiterServer } from '../arbiter-server';
import { within } from '../deadline';
import { freePort } from '../reload-peers';
import { whenServed } from '../when-served';
import { HOOK_MARK, type AppSpec, type PreparedApp } from './apps';
import { startGroup } from './processes';
import type { RunnerSpec } from './runners';

/** A fresh request this often while waiting for a version; at most this many in flight. */
export const POLL_INTERVAL_MS = 5;
const POLL_MAX_IN_FLIGHT = 3;
/** A framework that compiles on start (nest start --watch runs tsc first) may take a while. */
export const BOOT_DEADLINE_MS = 45_000;
/** Build steps before a peer starts (the generator's tsc). */
const BUILD_DEADLINE_MS = 120_000;

export type Started = {
  port: number;
  /** Resolves if the runner exits by itself. */
  exited: Promise<void>;
  marks: () => number;
  /** Resolves once `count` marks were printed; rejects at the deadline. */
  whenMarks: (count: number, deadlineMs: number) => Promise<void>;
  /** The processes whose trees make the runner's memory. */
  roots: () => number[];
  output: () => string;
  stop: () => Promise<void>;
  /** The arbiter itself, for its own figures. */
  arbiter?: ArbiterServer;
  /** Resolves once the runner's `readyLine` was printed. */
  watching?: Promise<void>;
};

/** Fresh-connection GETs until the app answers `version`; resolves with when that answer ended. */
export function whenVersion(
  app: AppSpec,
  started: Pick<Started, 'port' | 'exited'>,
  version: number,
  deadlineMs: number,
): Promise<number> {
  return whenServed(started.port, app.answer(version), deadlineMs, {
    intervalMs: POLL_INTERVAL_MS,
    maxInFlight: POLL_MAX_IN_FLIGHT,
    path: app.path,
    status: app.status,
    gaveUp: started.exited,
  });
}

/** Counts marked lines, and wakes whoever waits for a count. */
function markCounter() {
  let marks = 0;
  const waiters = new Set<() => void>();
  return {
    line: (line: string) => {
      if (!line.includes(HOOK_MARK)) return;
      marks++;
      for (const waiter of waiters) waiter();
    },
    marks: () => marks,
    whenMarks: (count: number, deadlineMs: number) => {
      let waiter: (() => void) | undefined;
      const reached = new Promise<void>((resolveReached) => {
        waiter = () => marks >= count && resolveReached();
        waiters.add(waiter);
        waiter();
      });
      return within(reached, deadlineMs, `${count} hook marks`).finally(() => waiters.delete(waiter!));
    },
  };
}

async function startArbiter(runner: RunnerSpec, prepared: PreparedApp, port: number): Promise<Started> {
  const args = runner.arbiterArgs!;
  const counter = markCounter();
  const server = await ArbiterServer.start(args.at(-1)!, runner.processesPerReload, BOOT_DEADLINE_MS, {
    cwd: prepared.dir,
    bind: `127.0.0.1:${port}`,
    reload: true,
    detached: true,
    args: args.slice(0, -1),
    env: prepared.env,
  });
  // The workers' output comes through the arbiter's own.
  for (const stream of [server.child.stdout, server.child.stderr] as Readable[]) {
    const lines = new LineSplitter(counter.line);
    stream.on('data', (chunk: string) => lines.push(chunk));
  }
  return {
    port,
    exited: server.exited.then(() => undefined),
    marks: counter.marks,
    whenMarks: counter.whenMarks,
    roots: () => [server.pid],
    output: () => '',
    stop: async () => void (await server.stop()),
    arbiter: server,
  };
}

function startPeer(runner: RunnerSpec, prepared: PreparedApp, port: number): Started {
  for (const step of runner.before ?? []) {
    execFileSync(step.command, step.args, {
      cwd: prepared.dir,
      env: { ...process.env, ...prepared.env, ...step.env },
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: BUILD_DEADLINE_MS,
    });
  }
  const commands = runner.commands!(port).map((command) => ({
    ...command,
    env: { ...prepared.env, ...command.env },
  }));
  const counter = markCounter();
  let onWatching: (() => void) | undefined;
  const watching = runner.readyLine
    ? new Promise<void>((resolveWatching) => (onWatching = resolveWatching))
    : undefined;
  const group = startGroup(commands, prepared.dir, (line) => {
    counter.line(line);
    if (runner.readyLine?.test(line)) onWatching?.();
  });
  return {
    ...(watching ? { watching } : {}),
    port,
    exited: group.exited,
    marks: counter.marks,
    whenMarks: counter.whenMarks,
    roots: () => group.pids,
    output: group.output,
    stop: group.stop,
  };
}

/**
 * `runner` on `prepared`, with version 1 of the edit written and served. `track` is told of
 * the runner as soon as it has processes, so that a failure anywhere still stops it.
 */
export async function startRunner(
  app: AppSpec,
  runner: RunnerSpec,
  prepared: PreparedApp,
  track: (started: Started) => void,
): Promise<Started> {
  const port = await freePort();
  const started =
    runner.kind === 'arbiter'
      ? await startArbiter(runner, prepared, port)
      : startPeer(runner, prepared, port);
  track(started);
  try {
    await whenVersion(app, started, 1, BOOT_DEADLINE_MS);
    // A save before the watcher's first build is done would time that build, not the save.
    if (started.watching) await within(started.watching, BOOT_DEADLINE_MS, `${runner.name} watching`);
  } catch (error) {
    const output = started.output().slice(-2_000);
    throw new Error(
      `${(error as Error).message}${output ? `\n--- ${runner.name} output ---\n${output}` : ''}`,
      {
        cause: error,
      },
    );
  }
  return started;
}
