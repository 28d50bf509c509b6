/**
 * A fresh project for the watcher's end-to-end tests: a small CommonJS server whose body names
 * its version and whose `x-worker-pid` header names the worker, the built arbiter started in
 * it, and waits on the cycles its edits start. Nothing here sleeps: every wait is on an event,
 * with a deadline. "Nothing happened" is proved by a later positive event: the cycle that a
 * real edit starts must carry only that edit.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ArbiterEventType, EventOf } from '../../runner/protocol/events';
import { get } from './http';
import { startArbiter, type ArbiterRun, type ArbiterRunOptions } from './arbiter-run';

export type TestContext = { after: (fn: () => Promise<void> | void) => void };

const SLOW_MS = 1500;

/** The app's source as lines; `extra` goes right after the VERSION line (line 3). */
export function appLines(version: string, extra: readonly string[] = [], versionFrom?: string): string[] {
  return [
    `'use strict';`,
    `const http = require('node:http');`,
    versionFrom
      ? `const VERSION = require(${JSON.stringify(versionFrom)});`
      : `const VERSION = '${version}';`,
    ...extra,
    `const server = http.createServer((request, response) => {`,
    `  response.setHeader('x-worker-pid', String(process.pid));`,
    `  if (request.url === '/slow') {`,
    `    response.write('start;');`,
    `    setTimeout(() => response.end('done ' + VERSION), ${SLOW_MS});`,
    `    return;`,
    `  }`,
    `  response.end('version=' + VERSION + ' pid=' + process.pid);`,
    `});`,
    `server.listen(process.env.PORT);`,
  ];
}

export const appSource = (version: string, extra: readonly string[] = []) =>
  appLines(version, extra).join('\n') + '\n';

/** The version a response body names. */
export function versionOf(body: string): string | undefined {
  return /^version=(\S+) pid=\d+$/.exec(body)?.[1];
}

export type Project = { dir: string; app: string; write: (rel: string, content: string) => string };

/** A fresh project dir with server.js (version v1) and `files` (relative path → content). */
export function project(files: Record<string, string> = {}): Project {
  // The real path: it is what the arbiter's cwd, chokidar and Node's module loader report.
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'arbiter-watch-')));
  const write = (rel: string, content: string) => {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    return path;
  };
  const app = write('server.js', appSource('v1'));
  for (const [rel, content] of Object.entries(files)) write(rel, content);
  return { dir, app, write };
}

export type Started = { run: ArbiterRun; port: number; generation: number; pids: number[] };

/** Starts the arbiter in `project`; returns once it serves and its watcher's first walk is done. */
export async function start(
  t: TestContext,
  { dir }: Project,
  options: {
    workers?: number;
    /** The project's config file sets the worker count (`workers`); the command line does not. */
    configured?: boolean;
    args?: readonly string[];
    /** How the arbiter process is started (its output, a command to run it under). */
    run?: Omit<ArbiterRunOptions, 'cwd'>;
  } = {},
): Promise<Started & { watching: EventOf<'watcher.ready'> }> {
  const workers = options.workers ?? 1;
  const args = [...(options.configured ? [] : ['-w', String(workers)]), ...(options.args ?? [])];
  const run = startArbiter(t, ['-b', '127.0.0.1:0', ...args, 'server.js'], { ...options.run, cwd: dir });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ready = await run.ready(workers, 1);
  const watching = await run.waitFor('watcher.ready');
  assert.equal(watching.root, dir);
  return { run, port: await run.port(), generation: 1, pids: ready.map((e) => e.pid), watching };
}

/** The first event of `type` matching `test` at index `mark` or later of the run's events. */
export function next<T extends ArbiterEventType>(
  run: ArbiterRun,
  mark: number,
  type: T,
  test: (event: EventOf<T>) => boolean = () => true,
  deadlineMs?: number,
): Promise<EventOf<T>> {
  const matches = (event: EventOf<T>) => event.type === type && test(event);
  const seen = run.events.slice(mark).find((event) => matches(event as EventOf<T>));
  if (seen) return Promise.resolve(seen as EventOf<T>);
  return run.waitForNext(type, test, deadlineMs);
}

/** The reload events at index `mark` or later. */
export const reloadsSince = (run: ArbiterRun, mark: number) =>
  run.events.slice(mark).filter((e): e is EventOf<'reload'> => e.type === 'reload');

/** The cycle after `mark`: its triggered and completed events, once its workers are all ready. */
export async function cycle(run: ArbiterRun, mark: number, workers = 1) {
  const triggered = await next(run, mark, 'reload', (e) => e.phase === 'triggered');
  const completed = await next(
    run,
    mark,
    'reload',
    (e) => e.phase !== 'triggered' && e.generation === triggered.generation,
  );
  assert.equal(completed.phase, 'completed', JSON.stringify(completed.error));
  const ready = await run.ready(workers, completed.generation);
  return { triggered, completed, pids: ready.map((e) => e.pid) };
}

/** Waits until each of `pids` has exited, and checks that each left by itself, gracefully. */
export async function exitedGracefully(run: ArbiterRun, pids: readonly number[]): Promise<void> {
  for (const pid of pids) {
    const exited = await run.waitFor('worker.exited', (e) => e.pid === pid);
    assert.equal(exited.state, 'exited', `worker ${pid}: ${exited.reason}`);
  }
}

/** GET / answers with `version` from one of `pids`. */
export async function serves(port: number, version: string, pids: readonly number[]): Promise<void> {
  const response = await get(port);
  assert.equal(response.status, 200);
  assert.equal(versionOf(response.body), version, response.body);
  assert.ok(pids.includes(response.pid!), `answered by ${response.pid}, not one of ${pids.join(', ')}`);
}

/**
 * Proves that nothing else is on its way: a real save of the app as `version` starts the very
 * next generation, and that cycle carries the app alone.
 */
export async function onlyThisSaveCycles(
  run: ArbiterRun,
  app: string,
  version: string,
  expectedGeneration: number,
): Promise<{ triggered: EventOf<'reload'>; pids: number[] }> {
  const mark = run.events.length;
  writeFileSync(app, appSource(version));
  const { triggered, pids } = await cycle(run, mark);
  assert.equal(triggered.generation, expectedGeneration, 'no other cycle came in between');
  assert.deepEqual(triggered.files, [app]);
  return { triggered, pids };
}
