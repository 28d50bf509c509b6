/**
 * Starting and stopping the runners of bench/big-tree.ts, each in its own process group: the
 * arbiter through the built CLI with its event stream on fd 3 (for `watcher.ready`), nodemon
 * through node_modules/.bin. Whatever a runner leaves in any process group of its tree is
 * killed when it is stopped, so the next runner finds the project untouched.
 */
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { LineSplitter } from '../runner/protocol/line-splitter';
import { parseEvent, type EventOf } from '../runner/protocol/events';
import { ROOT } from './arbiter-server';
import { killGroups, processGroup } from './big-tree-procs';
import { pause, within } from './deadline';
import { processTree } from './proc';
import { killGroup, spawnGroup } from './reload-peers';
import { whenServed } from './when-served';

const CLI = resolve(ROOT, 'out/runner/cli.js');
export const NODEMON = resolve(ROOT, 'node_modules/.bin/nodemon');
/** A fresh connection this often while waiting for a response (at most POLL_MAX_IN_FLIGHT open). */
export const POLL_INTERVAL_MS = 5;
const POLL_MAX_IN_FLIGHT = 3;
const OUTPUT_TAIL = 4_000;
const ARBITER_STOP_MS = 15_000;

export type WatcherReady = { event: EventOf<'watcher.ready'>; at: number };

/** A started runner; `watcherReady` only for the arbiter, which reports its walk. */
export type Running = {
  pid: number;
  exited: Promise<void>;
  watcherReady?: Promise<WatcherReady>;
  /** Arbiter only: pids of its standbys now (started, not ended, not made a worker). */
  standbys?: () => number[];
  output(): string;
  stop(): Promise<void>;
};

export type RunnerSpec = { name: string; command: string; start(dir: string, port: number): Running };

/** The arbiter on `dir`'s app.js, bound to `port`, in its own process group. */
function startArbiter(dir: string, port: number, workers: number, standby: boolean): Running {
  const args = ['-b', `127.0.0.1:${port}`, '-w', String(workers), ...(standby ? [] : ['--no-standby'])];
  const child = spawn(process.execPath, [CLI, ...args, '--events', '/dev/fd/3', 'app.js'], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    detached: true,
  });
  child.once('error', () => undefined);
  let output = '';
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (output = (output + chunk).slice(-OUTPUT_TAIL)));
  }
  let onReady: (ready: WatcherReady) => void = () => undefined;
  const watcherReady = new Promise<WatcherReady>((resolveReady) => (onReady = resolveReady));
  const standbys = new Set<number>();
  const lines = new LineSplitter((line) => {
    const parsed = line ? parseEvent(line) : undefined;
    if (!parsed?.ok) return;
    const event = parsed.value;
    if (event.type === 'watcher.ready') onReady({ event, at: performance.now() });
    if (event.type === 'standby' && event.phase === 'started') standbys.add(event.pid);
    if ((event.type === 'standby' && event.phase === 'ended') || event.type === 'worker.spawned')
      standbys.delete(event.pid);
  });
  const events = child.stdio[3] as Readable;
  events.setEncoding('utf8');
  events.on('data', (chunk: string) => lines.push(chunk));
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  // SIGTERM is the arbiter's graceful stop: it stops its workers itself; SIGKILL if it hangs.
  const stop = async () => {
    child.kill('SIGTERM');
    await within(exited, ARBITER_STOP_MS, 'arbiter stop').catch(() => child.kill('SIGKILL'));
  };
  return { pid: child.pid!, exited, watcherReady, standbys: () => [...standbys], output: () => output, stop };
}

function startNodemon(dir: string, port: number): Running {
  const group = spawnGroup(NODEMON, ['app.js'], dir, { PORT: String(port) });
  return {
    pid: group.child.pid!,
    exited: group.exited,
    output: group.output,
    stop: () => killGroup(group.child, group.exited),
  };
}

export const RUNNERS: readonly RunnerSpec[] = [
  {
    name: 'arbiter -w 1',
    command: 'arbiter -b 127.0.0.1:PORT -w 1 app.js',
    start: (dir, port) => startArbiter(dir, port, 1, true),
  },
  {
    name: 'arbiter -w 1 --no-standby',
    command: 'arbiter -b 127.0.0.1:PORT -w 1 --no-standby app.js',
    start: (dir, port) => startArbiter(dir, port, 1, false),
  },
  {
    name: 'arbiter -w 2',
    command: 'arbiter -b 127.0.0.1:PORT -w 2 app.js',
    start: (dir, port) => startArbiter(dir, port, 2, true),
  },
  { name: 'nodemon', command: 'PORT=… nodemon app.js', start: startNodemon },
];

/** Why nodemon cannot be measured, if it cannot. */
export function nodemonMissing(): string | undefined {
  const probe = spawnSync(NODEMON, ['--version'], { stdio: 'ignore' });
  return probe.status === 0 ? undefined : 'nodemon not installed: `npm install --save-dev nodemon@3`';
}

/**
 * The runner's own stop, then SIGKILL to every process group its tree had: a standby, a
 * worker or nodemon's child that outlived the stop must not linger on the shared project.
 */
export async function stopRunner(running: Running): Promise<void> {
  const groups = new Set([running.pid]);
  for (const pid of processTree(running.pid)) groups.add(processGroup(pid) ?? running.pid);
  await running.stop();
  await pause(200); // members of a group that outlive its leader
  killGroups(groups);
}

/**
 * When (performance.now()) the first fresh-connection GET answered 200 with `body`; polled every
 * POLL_INTERVAL_MS. Fails at the deadline, or at once if the runner exits.
 */
export function firstServed(
  port: number,
  body: string,
  running: Running,
  deadlineMs: number,
): Promise<number> {
  return whenServed(port, body, deadlineMs, {
    intervalMs: POLL_INTERVAL_MS,
    maxInFlight: POLL_MAX_IN_FLIGHT,
    gaveUp: running.exited,
  }).catch((error: Error) => {
    throw new Error(`${error.message}\n--- output ---\n${running.output()}`, { cause: error });
  });
}
