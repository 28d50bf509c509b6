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
    assert.ok(run.output.indexOf(warnings[0]!) < run.output.search(/killed|graceful timeout/i), run.output);
    assert.equal((await run.waitExit()).code, 0);
  },
);
