/**
 * Debugging a Python worker for real, as VS Code with the Python Debugger would (it cannot be
 * installed here): the extension's own attach configuration is handed to the worker's real
 * debugpy by a DAP client, a breakpoint in a Django view stops the request there, and the
 * extension's own pause decision tells the arbiter, so a 2 s heartbeat timeout does not abort
 * the worker held for 5 s. After a save, the new generation's worker is attached the same way.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { attachConfiguration } from '../../extension/debug/attach-configuration';
import { pausedBy } from '../../extension/debug/pause-state';
import { holdersOf, listeningInodes } from '../../runner/proc/listening-sockets';
import type { ArbiterCommand } from '../../runner/protocol/commands';
import { startArbiter, waitGone, type ArbiterRun } from '../support/arbiter-run';
import { DapClient } from '../support/dap-client';
import { get } from '../support/http';
import { PYTHON, noPythonPackages, python, pythonApp } from '../support/real-python-apps';

const skip = noPythonPackages('django', 'gunicorn', 'debugpy');
const HOLD_MS = 5000;

function send(run: ArbiterRun, command: ArbiterCommand): void {
  run.child.stdin!.write(`${JSON.stringify(command)}\n`);
}

/**
 * Attaches to one worker's debugpy with the configuration the extension would start, sets a
 * breakpoint at `file`:`line`, and relays every stop and resume to the arbiter as the
 * extension's pause tracker does.
 */
async function attach(
  run: ArbiterRun,
  dir: string,
  worker: { pid: number; id: number; generation: number },
  port: number,
  file: string,
  line: number,
  { relay = true } = {},
): Promise<DapClient> {
  const configuration = attachConfiguration(dir, worker, { port, url: `tcp://127.0.0.1:${port}` }, '/ext');
  assert.equal(configuration.type, 'debugpy');
  const dap = await DapClient.connect(port);
  const tell = (message: Parameters<typeof pausedBy>[0]) => {
    const paused = pausedBy(message);
    if (paused !== undefined) send(run, { type: 'debugger', pid: worker.pid, paused });
  };
  const initialize = await dap.request('initialize', {
    clientID: 'vscode',
    adapterID: 'debugpy',
    pathFormat: 'path',
    linesStartAt1: true,
    columnsStartAt1: true,
  });
  assert.equal(initialize.success, true, initialize.message);
  const attached = dap.request('attach', configuration);
  await dap.event('initialized');
  const breakpoints = await dap.request('setBreakpoints', {
    source: { path: file },
    breakpoints: [{ line }],
  });
  assert.equal(breakpoints.success, true, breakpoints.message);
  assert.equal((await dap.request('configurationDone')).success, true);
  const response = await attached;
  assert.equal(response.success, true, response.message);
  // What the adapter sends from now on reaches the tracker.
  dap.onEvent((message) => relay && tell(message));
  return dap;
}

/** Sends a request, sees it stop at the breakpoint, holds it, lets it go: returns its answer. */
async function stopHoldContinue(
  run: ArbiterRun,
  dap: DapClient,
  pid: number,
  port: number,
  file: string,
  line: number,
): Promise<string> {
  const answer = get(port, '/catalog/', { timeoutMs: 30_000 });
  const stopped = await dap.event('stopped', (e) => e.body?.reason === 'breakpoint');
  const threadId = stopped.body!.threadId as number;
  const trace = await dap.request('stackTrace', { threadId, startFrame: 0, levels: 1 });
  const [frame] = trace.body!.stackFrames as { name: string; line: number; source: { path: string } }[];
  assert.equal(frame?.source.path, file);
  assert.equal(frame?.line, line);
  assert.equal(frame?.name, 'index');
  const pausedAt = Date.now();
  await run.waitFor('worker.paused', (e) => e.pid === pid && e.paused);
  // Held past twice the heartbeat timeout: the worker is neither aborted nor replaced.
  const aborted = await run
    .waitForNext('worker.state', (e) => e.state === 'timed-out', HOLD_MS - (Date.now() - pausedAt))
    .then(
      (event) => event,
      () => undefined,
    );
  assert.equal(aborted, undefined, `aborted while paused: ${JSON.stringify(aborted)}`);
  const continued = await dap.request('continue', { threadId });
  assert.equal(continued.success, true, continued.message);
  // debugpy says `continued`, which the tracker relays: the worker's deadlines run again.
  await run.waitFor('worker.paused', (e) => e.pid === pid && !e.paused);
  const response = await answer;
  assert.equal(response.status, 200);
  return response.body;
}

/** The view's line the tests break at: where it reads the books through the ORM (1-based). */
function breakpointLine(view: string): number {
  const line = view.split('\n').findIndex((l) => l.includes("books = Book.objects.order_by('id')")) + 1;
  assert.ok(line > 0, 'the view reads its books');
  return line;
}

test(
  'a Django view under a real debugpy: stopped at its breakpoint, held 5 s with a 2 s heartbeat timeout and not aborted, continued; after a save, the new worker the same way',
  { skip },
  async (t) => {
    const dir = pythonApp(t, 'djsite');
    await python(dir, ['manage.py', 'migrate', '-v', '0']);
    const view = join(dir, 'catalog/views.py');
    const source = readFileSync(view, 'utf8');
    const line = breakpointLine(source);
    const run = startArbiter(
      t,
      [
        '--python',
        PYTHON,
        '-w',
        '1',
        '-b',
        '127.0.0.1:0',
        '--timeout',
        '2',
        '--stdin-commands',
        'djsite.wsgi',
      ],
      { cwd: dir, stdin: 'pipe' },
    );
    const [first] = await run.ready(1);
    await run.waitFor('watcher.ready');
    const port = await run.port();
    // As the extension's Attach to All Workers: every worker's debugpy, now and later.
    send(run, { type: 'inspect' });
    const opened = await run.waitFor('worker.inspector', (e) => e.pid === first!.pid);
    assert.ok(opened.port, opened.error);
    const dap = await attach(run, dir, first!, opened.port, view, line);
    assert.match(
      await stopHoldContinue(run, dap, first!.pid, port, view, line),
      /^Welcome to the catalog: 2 books/,
    );
    assert.deepEqual(
      run
        .all('worker.paused')
        .filter((e) => e.pid === first!.pid)
        .map((e) => e.paused),
      [true, false],
      'the stop and the resume reached the arbiter',
    );

    writeFileSync(view, source.replace(`'Welcome to the catalog'`, `'The edited catalog'`));
    const [second] = await run.ready(1, 2, 30_000);
    await dap.closed; // the old worker's session ends by itself as the worker exits
    const reopened = await run.waitFor('worker.inspector', (e) => e.pid === second!.pid, 30_000);
    assert.ok(reopened.port, reopened.error);
    assert.notEqual(reopened.port, opened.port);
    const again = await attach(run, dir, second!, reopened.port, view, line);
    assert.match(
      await stopHoldContinue(run, again, second!.pid, port, view, line),
      /^The edited catalog: 2 books/,
    );
    assert.equal(
      run.all('worker.exited').filter((e) => e.state === 'timed-out').length,
      0,
      'no worker was aborted',
    );

    // debugpy's adapter (which holds the port) is a daemon of its own session, outside the
    // worker's process group: it must not outlive the worker all the same.
    const adapters = holdersOf(listeningInodes(reopened.port)).map((holder) => holder.pid);
    assert.ok(adapters.length > 0, 'the debug adapter holds the port');
    again.close();
    run.signal('SIGINT');
    assert.equal((await run.waitExit(20_000)).code, 0, run.output);
    await waitGone([...run.workerPids(), ...adapters], 2000);
  },
);

test(
  'the control: a worker held at a breakpoint while nobody tells the arbiter is aborted at its 2 s heartbeat timeout (the hold above is real)',
  { skip },
  async (t) => {
    const dir = pythonApp(t, 'djsite');
    await python(dir, ['manage.py', 'migrate', '-v', '0']);
    const view = join(dir, 'catalog/views.py');
    const line = breakpointLine(readFileSync(view, 'utf8'));
    const run = startArbiter(
      t,
      [
        '--python',
        PYTHON,
        '-w',
        '1',
        '-b',
        '127.0.0.1:0',
        '--no-reload',
        '--timeout',
        '2',
        '--stdin-commands',
        'djsite.wsgi',
      ],
      { cwd: dir, stdin: 'pipe' },
    );
    const [worker] = await run.ready(1);
    send(run, { type: 'inspect', pid: worker!.pid });
    const opened = await run.waitFor('worker.inspector', (e) => e.pid === worker!.pid);
    const dap = await attach(run, dir, worker!, opened.port!, view, line, { relay: false });
    const answer = get(await run.port(), '/catalog/', { timeoutMs: 30_000 }).then(
      () => 'answered',
      (error: Error) => error.message,
    );
    await dap.event('stopped');
    const adapters = holdersOf(listeningInodes(opened.port!)).map((holder) => holder.pid);
    assert.ok(adapters.length > 0, 'the debug adapter holds the port');
    const timedOut = await run.waitFor(
      'worker.state',
      (e) => e.pid === worker!.pid && e.state === 'timed-out',
      10_000,
    );
    assert.equal(timedOut.state, 'timed-out');
    assert.notEqual(await answer, 'answered');
    // Killed at a breakpoint, the worker leaves no debug adapter behind.
    await run.waitFor('worker.exited', (e) => e.pid === worker!.pid);
    await waitGone(adapters, 2000);
    dap.close();
    run.signal('SIGINT');
    assert.equal((await run.waitExit(20_000)).code, 0, run.output);
    await waitGone(run.workerPids(), 2000);
  },
);
