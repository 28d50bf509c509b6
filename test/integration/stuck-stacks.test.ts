/**
 * Why a stuck worker was stuck: when its stop's deadline or its heartbeat runs out, the arbiter
 * reads what its threads are doing before it kills or aborts it, reports `worker.stacks`, and
 * names the app's innermost frame in the kill's reason. Python answers from its channel's reader
 * thread; a busy Node main thread is read by the runtime's stall watcher thread.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { FIXTURES, startArbiter } from '../support/arbiter-run';
import { get } from '../support/http';

const PYTHON = '/usr/bin/python3';
const skip = existsSync(PYTHON) ? false : `${PYTHON} is not installed`;
const BASE = ['--python', PYTHON, '-b', '127.0.0.1:0', '--no-reload'];

function pythonProject(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-stuck-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(FIXTURES, 'python-apps'), dir, { recursive: true });
  return dir;
}

test(
  'a Python flusher thread nobody stops: at the graceful timeout its line, source and thread name are reported, then it is killed',
  { skip },
  async (t) => {
    const run = startArbiter(
      t,
      [...BASE, '-w', '1', '--graceful-timeout', '1', 'cancelled_flusher:application'],
      {
        cwd: pythonProject(t),
      },
    );
    const [worker] = await run.ready(1);
    run.signal('SIGTERM');
    const draining = await run.waitFor('worker.state', (e) => e.state === 'draining');
    const stacks = await run.waitFor('worker.stacks', (e) => e.pid === worker!.pid);
    assert.equal(stacks.at, 'stop-timeout');
    const flusher = stacks.threads.find((thread) => thread.name === 'flusher');
    assert.ok(flusher, JSON.stringify(stacks.threads));
    assert.equal(flusher.daemon, false);
    assert.match(flusher.frames[0]!.file, /cancelled_flusher\.py$/);
    assert.equal(flusher.frames[0]!.line, 14);
    assert.equal(flusher.frames[0]!.source, 'time.sleep(0.05)');
    assert.ok(!stacks.threads.some((thread) => thread.name.startsWith('arbiter-')), 'no runtime thread');
    const killed = await run.waitFor('worker.state', (e) => e.state === 'killed' && e.pid === worker!.pid);
    assert.match(
      killed.reason,
      /while in cancelled_flusher\.py:14 `time\.sleep\(0\.05\)` in run\(\) \(thread flusher\)/,
    );
    // The stack is read within its bounded wait: the freeze is not made later by more than it.
    const freeze = await run.waitFor('signal', (e) => e.signal === 'SIGSTOP' && e.pid === worker!.pid);
    assert.ok(
      freeze.ts - draining.deadline! <= 300 + 100,
      `SIGSTOP ${freeze.ts - draining.deadline!} ms late`,
    );
    await run.waitForOutput(/killed: graceful timeout \(1 s\) ran out.*while in cancelled_flusher\.py:14/);
    assert.equal((await run.waitExit()).code, 0);
  },
);

test(
  'a Python request handler spinning in a busy loop: at the heartbeat timeout its line is reported and named in the abort',
  { skip },
  async (t) => {
    const run = startArbiter(t, [...BASE, '-w', '1', '--timeout', '2', 'stuck:application'], {
      cwd: pythonProject(t),
    });
    const [worker] = await run.ready(1);
    void get(await run.port(), '/freeze').catch(() => undefined); // never answered: it spins
    const stacks = await run.waitFor('worker.stacks', (e) => e.pid === worker!.pid);
    assert.equal(stacks.at, 'heartbeat-timeout');
    const main = stacks.threads.find((thread) => thread.main);
    assert.ok(main, JSON.stringify(stacks.threads));
    const app = main.frames.find((frame) => frame.file.endsWith('stuck.py'));
    assert.ok(app, JSON.stringify(main.frames));
    assert.match(app.source ?? '', /^(while True:|pass)$/);
    const timedOut = await run.waitFor(
      'worker.state',
      (e) => e.state === 'timed-out' && e.pid === worker!.pid,
    );
    assert.match(
      timedOut.reason,
      /^no heartbeat for 2 s while in stuck\.py:1[01] `(while True:|pass)` in application\(\) \(thread MainThread\)$/,
    );
    const abort = await run.waitFor('signal', (e) => e.signal === 'SIGABRT' && e.pid === worker!.pid);
    assert.ok(abort.ts >= stacks.ts, 'the stack is read before the abort');
    run.signal('SIGTERM');
    assert.equal((await run.waitExit()).code, 0);
  },
);

test('a Node busy loop at a heartbeat timeout: its stall watcher read the line, named in the abort', async (t) => {
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', '--timeout', '2', 'app.js']);
  const [worker] = await run.ready(1);
  await get(await run.port(), '/freeze'); // answers, then spins forever
  const stacks = await run.waitFor('worker.stacks', (e) => e.pid === worker!.pid);
  assert.equal(stacks.at, 'heartbeat-timeout');
  assert.equal(stacks.unavailable, undefined);
  const [main] = stacks.threads;
  assert.equal(main?.main, true);
  assert.match(main.frames[0]!.file, /fixtures\/app\.js$/);
  assert.equal(main.frames[0]!.source, 'for (;;);');
  const timedOut = await run.waitFor('worker.state', (e) => e.state === 'timed-out' && e.pid === worker!.pid);
  assert.match(timedOut.reason, /^no heartbeat for 2 s while in app\.js:29 `for \(;;\);`.* \(thread main\)$/);
  run.signal('SIGTERM');
  assert.equal((await run.waitExit()).code, 0);
});

test('a Node worker kept alive by a timer at the graceful timeout: its idle main thread says so, with what it holds', async (t) => {
  const run = startArbiter(
    t,
    ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', '--graceful-timeout', '1', 'app.js'],
    {
      env: { FIXTURE_ON_SIGTERM: 'ignore' },
    },
  );
  const [worker] = await run.ready(1);
  run.signal('SIGTERM');
  const stacks = await run.waitFor('worker.stacks', (e) => e.pid === worker!.pid);
  assert.equal(stacks.at, 'stop-timeout');
  assert.deepEqual(stacks.threads, []);
  assert.match(stacks.unavailable ?? '', /main thread is idle/);
  const killed = await run.waitFor('worker.state', (e) => e.state === 'killed' && e.pid === worker!.pid);
  assert.match(killed.reason, /\(its stack: its main thread is idle/);
  assert.equal((await run.waitExit()).code, 0);
});

test('a Node busy loop with its inspector open (--inspect): the stall watcher leaves it to the debugger, and says so', async (t) => {
  const run = startArbiter(t, [
    '-w',
    '1',
    '-b',
    '127.0.0.1:0',
    '--no-reload',
    '--inspect',
    '--timeout',
    '2',
    'app.js',
  ]);
  const [worker] = await run.ready(1);
  await run.waitFor('worker.inspector', (e) => e.pid === worker!.pid && e.url !== undefined);
  await get(await run.port(), '/freeze');
  const stacks = await run.waitFor('worker.stacks', (e) => e.pid === worker!.pid);
  assert.deepEqual(stacks.threads, []);
  assert.match(stacks.unavailable ?? '', /its inspector is open/);
  const timedOut = await run.waitFor('worker.state', (e) => e.state === 'timed-out' && e.pid === worker!.pid);
  assert.match(timedOut.reason, /^no heartbeat for 2 s \(its stack: its inspector is open/);
  run.signal('SIGTERM');
  assert.equal((await run.waitExit()).code, 0);
});
