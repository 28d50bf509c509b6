/**
 * The control channel (fd 3) belongs to the worker runtime, whatever the app does with fd 3:
 * protocol never reaches an app's socket, and a worker that lost its channel is replaced.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES, startArbiter } from '../support/arbiter-run';
import { get } from '../support/http';

/**
 * A raw client that stays connected for `holdMs` before it sends its request, long enough for
 * several heartbeats (`--timeout 1`: one every 250 ms): everything the server wrote to it.
 */
function heldRequest(port: number, holdMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = net.connect(port, '127.0.0.1');
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer; got ${JSON.stringify(received)}`)));
    setTimeout(() => socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), holdMs);
  });
}

test('an app that closes fd 3 through fs: the close is refused with a notice, the channel stays, no protocol reaches a client', async (t) => {
  const run = startArbiter(t, [
    '-w',
    '1',
    '-b',
    '127.0.0.1:0',
    '--no-reload',
    '--timeout',
    '1',
    'close-fd3.js',
  ]);
  const [worker] = await run.ready(1);
  const port = await run.port();
  assert.equal((await get(port, '/?close=js')).body, 'closed fd 3 (js)');
  await run.waitForOutput(/the app closed fd 3, the arbiter's control channel: left open/);
  const answer = await heldRequest(port, 700);
  assert.match(answer, /^HTTP\/1\.1 200/);
  assert.doesNotMatch(answer, /"type"/);
  assert.equal((await get(port)).pid, worker!.pid, 'the same worker serves on');
  run.signal('SIGTERM');
  const exited = await run.waitFor('worker.exited', (e) => e.pid === worker!.pid);
  assert.equal(exited.state, 'exited');
});

test('an app that closes fd 3 below fs (natively): no protocol reaches a client, and the worker is replaced', async (t) => {
  const run = startArbiter(t, [
    '-w',
    '1',
    '-b',
    '127.0.0.1:0',
    '--no-reload',
    '--timeout',
    '1',
    'close-fd3.js',
  ]);
  const [worker] = await run.ready(1);
  const port = await run.port();
  assert.equal((await get(port, '/?close=native')).body, 'closed fd 3 (native)');
  const answer = await heldRequest(port, 700);
  assert.doesNotMatch(answer, /"type"/);
  const replaced = await run.waitFor('worker.state', (e) => e.pid === worker!.pid && e.state === 'draining');
  assert.match(replaced.reason, /control channel/);
  await run.waitFor('worker.state', (e) => e.state === 'ready' && e.pid !== worker!.pid);
  assert.notEqual((await get(port)).pid, worker!.pid);
});

const PYTHON = '/usr/bin/python3';

test(
  'a Python app that closes fd 3: the channel is elsewhere by then, no protocol reaches a client (gthread: it beats while a client waits)',
  { skip: !existsSync(PYTHON) && `${PYTHON} is not installed` },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'arbiter-py-fd3-'));
    cpSync(join(FIXTURES, 'python-apps'), dir, { recursive: true });
    const run = startArbiter(
      t,
      [
        '--python',
        PYTHON,
        '-k',
        'gthread',
        '-w',
        '1',
        '-b',
        '127.0.0.1:0',
        '--no-reload',
        '--timeout',
        '1',
        'close_fd3:app',
      ],
      { cwd: dir },
    );
    const [worker] = await run.ready(1);
    const port = await run.port();
    await get(port, '/close');
    const answer = await heldRequest(port, 700);
    assert.match(answer, /^HTTP\/1\.[01] 200/);
    assert.doesNotMatch(answer, /"type"/);
    assert.equal((await get(port)).pid, worker!.pid, 'the same worker serves on');
    run.signal('SIGTERM');
    assert.equal((await run.waitExit()).code, 0);
    assert.equal(run.all('worker.exited')[0]!.state, 'exited');
  },
);
