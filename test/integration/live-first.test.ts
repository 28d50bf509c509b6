/**
 * A cycle goes live at the first ready worker of the new generation, and a client never gets an
 * old-code answer after a new-code one (runner/arbiter/generations/handover.ts).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { FIXTURES, startArbiter, waitUntil, type ArbiterRun } from '../support/arbiter-run';
import { pollGenerations } from '../support/generation-clients';
import { heldResources } from '../../runner/proc/held-resources';
import { get } from '../support/http';
import { noPythonPackages, PYTHON } from '../support/real-python-apps';

const RELOADS = 20;

function controlDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-live-first-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const generationOf = (body: string) => Number(/^gen (\d+) /.exec(body)?.[1]);

/** SIGHUP `reloads` times under polling of `workers` workers; each cycle waits until a client has seen its generation. */
async function reloadUnderPolling(
  t: TestContext,
  run: ArbiterRun,
  workers: number,
  reloads: number,
): Promise<void> {
  const polling = pollGenerations(await run.port(), { fresh: 2, keptAlive: 2 });
  try {
    for (let generation = 2; generation <= reloads + 1; generation++) {
      run.signal('SIGHUP');
      await run.waitFor('reload', (e) => e.phase === 'completed' && e.generation === generation);
      await waitUntil(
        () => polling.newest >= generation,
        15_000,
        `generation ${generation} seen by a client`,
      );
    }
  } finally {
    polling.stop();
    await polling.done;
  }
  t.diagnostic(`${polling.ok} answers, ${polling.retried} sent again on a fresh connection`);
  assert.deepEqual(polling.backInTime, [], 'no old-code answer after a new-code one');
  assert.equal(polling.failed, 0, `failed requests: ${polling.errors.slice(0, 5).join(', ')}`);
  assert.equal(run.all('reload').filter((e) => e.phase === 'failed').length, 0);
  const spawned = run.all('worker.spawned').length;
  assert.equal(spawned, workers * (reloads + 1), 'no worker was lost and replaced');
}

for (const workers of [2, 3]) {
  test(`-w ${workers}: over ${RELOADS} reloads, fresh and kept-alive clients never go back to old code`, async (t) => {
    const run = startArbiter(t, [
      '-w',
      String(workers),
      '-b',
      '127.0.0.1:0',
      '--no-reload',
      'generations.js',
    ]);
    await run.ready(workers);
    await reloadUnderPolling(t, run, workers, RELOADS);
  });
}

test('the new code answers before the second new worker is ready; the rest joins', async (t) => {
  const control = controlDir(t);
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', 'generations.js'], {
    env: { FIXTURE_CONTROL_DIR: control },
  });
  await run.ready(2);
  const port = await run.port();
  writeFileSync(join(control, 'hold-4'), ''); // generation 2 is workers 3 and 4
  run.signal('SIGHUP');
  const completed = await run.waitFor('reload', (e) => e.phase === 'completed' && e.generation === 2);
  const states = run.all('worker.state').map((e) => `${e.id} ${e.state}`);
  assert.deepEqual([completed.ready, completed.workers], [1, 2], states.join(', '));
  assert.equal(generationOf((await get(port)).body), 2);
  const isReady4 = (e: { id: number; state: string }) => e.id === 4 && e.state === 'ready';
  assert.equal(run.all('worker.state').filter(isReady4).length, 0, 'worker 4 still holds its readiness');
  const drained = run.all('worker.state').filter((e) => e.generation === 1 && e.state === 'draining');
  assert.equal(drained.length, 2, 'the old generation drains at once');
  rmSync(join(control, 'hold-4'));
  await run.waitFor('worker.state', isReady4);
  for (let i = 0; i < 5; i++) assert.equal(generationOf((await get(port)).body), 2);
});

test('a later worker of the new generation that fails to boot keeps the new code up, and is replaced', async (t) => {
  const control = controlDir(t);
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', 'generations.js'], {
    env: { FIXTURE_CONTROL_DIR: control },
  });
  await run.ready(2);
  const port = await run.port();
  writeFileSync(join(control, 'hold-4'), ''); // fails once let go, after worker 3 went live
  writeFileSync(join(control, 'fail-4'), '');
  run.signal('SIGHUP');
  const completed = await run.waitFor('reload', (e) => e.phase === 'completed' && e.generation === 2);
  assert.equal(completed.ready, 1);
  rmSync(join(control, 'hold-4'));
  const failed = await run.waitFor('worker.state', (e) => e.id === 4 && e.state === 'boot-failed');
  assert.equal(failed.generation, 2);
  const replacement = await run.waitFor('worker.spawned', (e) => e.generation === 2 && e.id > 4);
  await run.waitFor('worker.state', (e) => e.id === replacement.id && e.state === 'ready');
  assert.equal(run.all('reload').filter((e) => e.phase === 'failed').length, 0, 'the reload did not fail');
  for (let i = 0; i < 5; i++) assert.equal(generationOf((await get(port)).body), 2);
  await run.waitForOutput(/worker 4 told to fail/);
});

test('an old worker that cannot say it stopped accepting (frozen) is killed before the new code accepts', async (t) => {
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'app.js']);
  const [old] = await run.ready(1);
  const port = await run.port();
  assert.equal((await get(port, '/freeze')).body, 'freezing');
  run.signal('SIGHUP');
  const killed = await run.waitFor('worker.state', (e) => e.pid === old!.pid && e.state === 'killed');
  assert.match(killed.reason, /did not say it stopped accepting within 1000 ms/);
  const completed = await run.waitFor('reload', (e) => e.phase === 'completed' && e.generation === 2);
  assert.ok(
    run.events.indexOf(killed) < run.events.indexOf(completed),
    'killed before the handover completed',
  );
  const [fresh] = await run.ready(1, 2);
  assert.equal((await get(port)).pid, fresh!.pid);
});

/** A copy of tagged.py (its answers name their generation) to serve from. */
function taggedApp(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-live-first-py-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(FIXTURES, 'python-apps', 'tagged.py'), join(dir, 'tagged.py'));
  return dir;
}

const PYTHON_ARGS = ['--python', PYTHON, '-w', '2', '-b', '127.0.0.1:0', '--no-reload'];

for (const [what, args, packages] of [
  ['a WSGI app on sync workers', ['tagged:application'], ['gunicorn']],
  [
    'a WSGI app on gthread workers, which keep connections alive',
    ['-k', 'gthread', 'tagged:kept_alive'],
    ['gunicorn'],
  ],
  ['an ASGI app on uvicorn, which keeps connections alive', ['tagged:asgi'], ['uvicorn']],
] as const) {
  test(
    `${what}: over 10 reloads no client goes back to old code`,
    { skip: noPythonPackages(...packages) },
    async (t) => {
      const run = startArbiter(t, [...PYTHON_ARGS, ...args], { cwd: taggedApp(t) });
      await run.ready(2);
      await reloadUnderPolling(t, run, 2, 10);
    },
  );
}

test(
  'ASGI: a connection the old worker accepted before its stop, with no request yet, is answered once with Connection: close, never kept alive for old code',
  { skip: noPythonPackages('uvicorn') },
  async (t) => {
    // A long grace: the old worker waits for that connection's first request instead of closing it.
    const args = [
      '--python',
      PYTHON,
      '-w',
      '1',
      '-b',
      '127.0.0.1:0',
      '--no-reload',
      '--long-lived-grace',
      '10',
    ];
    const run = startArbiter(t, [...args, 'tagged:asgi'], { cwd: taggedApp(t) });
    const [old] = await run.ready(1);
    const socket = net.connect(await run.port(), '127.0.0.1');
    t.after(() => socket.destroy());
    await once(socket, 'connect');
    const me = `127.0.0.1:${socket.localPort}`;
    await waitUntil(
      () => heldResources(old!.pid).connections.some((connection) => connection.peer === me),
      10_000,
      'the old worker accepted the connection',
    );
    run.signal('SIGHUP');
    await run.waitFor('reload', (e) => e.phase === 'completed' && e.generation === 2);
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    const ended = once(socket, 'close');
    socket.write('GET / HTTP/1.1\r\nHost: test\r\n\r\n');
    await ended; // the server closes it after the answer: no further request reaches old code
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    assert.match(body, /\bgen 1 /, answer);
    assert.match(head, /^connection: close$/im, answer);
  },
);
