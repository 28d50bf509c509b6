/**
 * The app's own lifecycle code in a Python worker, run or explained: atexit handlers that can
 * never run (Python joins non-daemon threads first) are named before the kill, and granian's
 * RSGI lifecycle (`__rsgi_init__`, `__rsgi_del__`) runs around an app served through its ASGI or
 * WSGI face, each call reported as a hook; an app with nothing but an RSGI face gets one line.
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

function project(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-py-lifecycle-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(FIXTURES, 'python-apps'), dir, { recursive: true });
  return dir;
}

test(
  'an atexit handler meant to stop a non-daemon thread: before the kill, one warning names the handler and the thread and points at on_shutdown',
  { skip },
  async (t) => {
    const run = startArbiter(
      t,
      [...BASE, '-w', '1', '--graceful-timeout', '2', 'atexit_flusher:application'],
      {
        cwd: project(t),
      },
    );
    const [worker] = await run.ready(1);
    run.signal('SIGTERM');
    const exited = await run.waitFor('worker.exited', (e) => e.pid === worker!.pid);
    assert.equal(exited.state, 'killed');
    const warnings = run.output.split('\n').filter((line) => line.includes('will never run'));
    assert.equal(warnings.length, 1, run.output);
    assert.match(warnings[0]!, /atexit stop_flusher will never run/);
    assert.match(warnings[0]!, /thread 'metrics-flusher' is still running/);
    assert.match(warnings[0]!, /arbiter\.on_shutdown/);
    // Said before the kill, while the worker could still speak.
    const kill = run.output.search(/\] killed: /); // the arbiter's line when it kills the worker
    assert.ok(kill > 0 && run.output.indexOf(warnings[0]!) < kill, run.output);
    assert.equal((await run.waitExit()).code, 0);
  },
);

for (const args of [['--interface', 'rsgi'], []]) {
  test(
    `an RSGI-only app ${args.join(' ') || '(interface auto)'}: one line says granian is not here and what the app needs; exit 4`,
    { skip },
    async (t) => {
      const run = startArbiter(t, [...BASE, '-w', '1', ...args, 'rsgi_apps:rsgi_only'], { cwd: project(t) });
      const failed = await run.waitFor('worker.exited', (e) => e.state === 'boot-failed');
      assert.match(
        failed.reason,
        /rsgi_apps:rsgi_only is an RSGI app .*granian, which is not available here; give it an ASGI face .* or a WSGI one/,
      );
      assert.equal((await run.waitExit()).code, 4);
    },
  );
}

for (const [app, args] of [
  ['rsgi_apps:dual_asgi', ['--interface', 'rsgi']],
  ['rsgi_apps:dual_wsgi', ['--interface', 'rsgi']],
  ['rsgi_apps:dual_wsgi', []],
] as const) {
  test(
    `${app} ${args.join(' ') || '(interface auto)'}: __rsgi_init__ before it is ready, __rsgi_del__ at Stop, each a hook`,
    { skip },
    async (t) => {
      const run = startArbiter(t, [...BASE, '-w', '1', ...args, app], { cwd: project(t) });
      const [worker] = await run.ready(1);
      assert.match((await get(await run.port())).body, /^initialized \d+$/);
      const init = run.all('hook').find((e) => e.name === 'rsgi __rsgi_init__' && e.phase === 'end');
      assert.equal(init?.outcome, 'ok', init?.error);
      const ready = run.all('worker.state').find((e) => e.pid === worker!.pid && e.state === 'ready')!;
      assert.ok(run.events.indexOf(init) < run.events.indexOf(ready), 'set up before it serves');
      run.signal('SIGTERM');
      assert.equal((await run.waitExit()).code, 0);
      const del = run.all('hook').filter((e) => e.name === 'rsgi __rsgi_del__' && e.phase === 'end');
      assert.deepEqual(
        del.map((e) => [e.pid, e.outcome]),
        [[worker!.pid, 'ok']],
      );
    },
  );
}

test(
  '--interface rsgi on an app without __rsgi__: served as the app it is, and said',
  { skip },
  async (t) => {
    const run = startArbiter(t, [...BASE, '-w', '1', '--interface', 'rsgi', 'tagged:application'], {
      cwd: project(t),
    });
    await run.ready(1);
    assert.match((await get(await run.port())).body, /^gen 1 \d+$/);
    await run.waitForOutput(
      /--interface rsgi: tagged:application has no __rsgi__, so it is served as the app it is/,
    );
    run.signal('SIGTERM');
    assert.equal((await run.waitExit()).code, 0);
  },
);
