import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { get } from '../support/http';
import { isAlive, startArbiter } from '../support/arbiter-run';

const markersFile = () => join(mkdtempSync(join(tmpdir(), 'arbiter-stop-')), 'markers');
const markers = (file: string) => readFileSync(file, 'utf8').trim().split('\n');

test('TERM: a slow request in flight finishes, shutdown hooks run, the arbiter exits 0', async (t) => {
  const file = markersFile();
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', 'app.js'], {
    env: { FIXTURE_MARKERS: file, FIXTURE_SHUTDOWN_HOOKS: 'ok' },
  });
  await run.ready(2);
  const slow = get(await run.port(), '/slow?ms=1000');
  await run.waitFor('worker.stats', (event) => event.inflight === 1);
  run.signal('SIGTERM');
  const response = await slow;
  assert.equal(response.body, 'start;done after 1000 ms');
  assert.equal((await run.waitExit()).code, 0);
  const hookEnds = run.all('hook').filter((event) => event.phase === 'end' && event.name === 'hook-ok');
  assert.equal(hookEnds.length, 2);
  for (const end of hookEnds) assert.equal(end.outcome, 'ok');
  assert.equal(markers(file).filter((line) => line.startsWith('hook-ok')).length, 2);
  for (const exited of run.all('worker.exited')) assert.equal(exited.state, 'exited');
  assert.equal(run.all('arbiter.exited')[0]?.code, 0);
});

test('the app’s own SIGTERM handler runs and is reported with its duration', async (t) => {
  const file = markersFile();
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'app.js'], {
    env: { FIXTURE_MARKERS: file, FIXTURE_ON_SIGTERM: 'async-cleanup' },
  });
  const [worker] = await run.ready(1);
  run.signal('SIGTERM');
  await run.waitExit();
  const start = run
    .all('hook')
    .find((e) => e.name === 'SIGTERM handler closeEverything' && e.phase === 'start');
  const end = run.all('hook').find((e) => e.name === 'SIGTERM handler closeEverything' && e.phase === 'end');
  assert.ok(start && end, JSON.stringify(run.all('hook')));
  assert.equal(end.outcome, 'ok');
  assert.equal(end.pid, worker!.pid);
  assert.ok(end.durationMs! >= 45, `duration ${end.durationMs}`);
  assert.deepEqual(
    markers(file).map((line) => line.split(' ')[0]),
    ['sigterm-start', 'sigterm-done'],
  );
});

test('a worker that ignores TERM is stopped at the graceful timeout, within 100 ms of it, and killed once what it held is read', async (t) => {
  const run = startArbiter(
    t,
    ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', '--graceful-timeout', '1', 'app.js'],
    {
      env: { FIXTURE_ON_SIGTERM: 'ignore' },
    },
  );
  const [worker] = await run.ready(1);
  run.signal('SIGTERM');
  const draining = await run.waitFor('worker.state', (e) => e.state === 'draining');
  // At the deadline it is frozen (SIGSTOP), what it held is read from /proc, then SIGKILL.
  const freeze = await run.waitFor('signal', (e) => e.direction === 'sent' && e.signal === 'SIGSTOP');
  const late = freeze.ts - draining.deadline!;
  assert.ok(late >= 0 && late <= 100, `SIGSTOP came ${late} ms after the deadline`);
  const kill = await run.waitFor('signal', (e) => e.direction === 'sent' && e.signal === 'SIGKILL');
  assert.ok(kill.ts >= freeze.ts);
  await run.waitFor('worker.resources', (e) => e.at === 'kill' && e.pid === worker!.pid);
  // The graceful timeout from the moment the stop began: after the arbiter took the TERM, and
  // before it said the worker drains (bounds that hold however loaded the machine is).
  const received = run.all('signal').find((e) => e.direction === 'received' && e.signal === 'SIGTERM')!;
  assert.ok(draining.deadline! >= received.ts + 1000, 'the deadline is the graceful timeout away');
  assert.ok(draining.deadline! <= draining.ts + 1000, 'the deadline is the graceful timeout away');
  // The worker answered the stop message: no real signal was needed.
  const terms = run.all('signal').filter((e) => e.direction === 'sent' && e.signal === 'SIGTERM');
  assert.deepEqual(
    terms.map((e) => e.via),
    ['message'],
  );
  const exited = await run.waitFor('worker.exited', (e) => e.pid === worker!.pid);
  assert.equal(exited.state, 'killed');
  assert.equal(exited.signal, 'SIGKILL');
  const handler = run.all('hook').filter((e) => e.name === 'SIGTERM handler ignoreTerm');
  assert.deepEqual(
    handler.map((e) => e.phase),
    ['start', 'end'],
  );
  assert.equal(handler[1]!.outcome, 'killed');
  assert.match(exited.reason, /Timeout/); // the interval that kept it alive is named
  assert.equal((await run.waitExit()).code, 0);
});

test('a worker that does not answer the stop message gets the signal too, then SIGKILL at the deadline', async (t) => {
  const run = startArbiter(t, [
    '-w',
    '1',
    '-b',
    '127.0.0.1:0',
    '--no-reload',
    '--graceful-timeout',
    '1',
    '--timeout',
    '0',
    'app.js',
  ]);
  const [worker] = await run.ready(1);
  await get(await run.port(), '/freeze'); // answers, then spins forever: it reads nothing more
  run.signal('SIGTERM');
  const draining = await run.waitFor('worker.state', (e) => e.state === 'draining');
  const term = await run.waitFor(
    'signal',
    (e) => e.direction === 'sent' && e.signal === 'SIGTERM' && e.via === 'os',
  );
  assert.equal(term.pid, worker!.pid);
  assert.match(term.reason, /no answer to the stop message within 100 ms/);
  assert.ok(
    term.ts - draining.ts >= 100 - 5,
    `the signal followed ${term.ts - draining.ts} ms after the message`,
  );
  const exited = await run.waitFor('worker.exited', (e) => e.pid === worker!.pid);
  assert.equal(exited.state, 'killed');
  assert.equal((await run.waitExit()).code, 0);
});

test('Ctrl+C ladder: graceful, then quick, then kill', async (t) => {
  const run = startArbiter(
    t,
    ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', '--quick-timeout', '30', 'app.js'],
    {
      env: { FIXTURE_ON_SIGTERM: 'hang' },
    },
  );
  const workers = await run.ready(2);
  run.signal('SIGINT');
  for (const worker of workers) {
    await run.waitFor(
      'worker.state',
      (e) => e.state === 'draining' && /^graceful stop/.test(e.reason) && e.pid === worker.pid,
    );
  }
  run.signal('SIGINT');
  for (const worker of workers) {
    await run.waitFor(
      'worker.state',
      (e) => e.state === 'draining' && /^quick stop/.test(e.reason) && e.pid === worker.pid,
    );
  }
  // The hanging SIGTERM handler keeps the quick stop waiting; the third Ctrl+C ends it.
  run.signal('SIGINT');
  const { code } = await run.waitExit();
  assert.equal(code, 1);
  for (const worker of workers) {
    const exited = await run.waitFor('worker.exited', (e) => e.pid === worker.pid);
    assert.equal(exited.signal, 'SIGKILL');
    assert.equal(exited.state, 'killed');
    assert.equal(exited.reason, 'killed on request: third Ctrl+C (killed by SIGKILL)');
    assert.equal(isAlive(worker.pid), false);
  }
  const received = run
    .all('signal')
    .filter((e) => e.direction === 'received')
    .map((e) => e.signal);
  assert.deepEqual(received, ['SIGINT', 'SIGINT', 'SIGINT']);
});

test('QUIT: a quick stop — the app’s SIGINT handler runs, in-flight requests are not waited for', async (t) => {
  const file = markersFile();
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'app.js'], {
    env: { FIXTURE_MARKERS: file, FIXTURE_ON_SIGINT: 'cleanup' },
  });
  const [worker] = await run.ready(1);
  const slow = get(await run.port(), '/slow?ms=20000').catch((error: Error) => error);
  await run.waitFor('worker.stats', (event) => event.inflight === 1);
  run.signal('SIGQUIT');
  assert.equal((await run.waitExit()).code, 0);
  assert.ok((await slow) instanceof Error, 'the slow request was cut');
  const exited = run.all('worker.exited')[0]!;
  assert.equal(exited.pid, worker!.pid);
  assert.equal(exited.state, 'exited');
  assert.deepEqual(markers(file), [`sigint ${worker!.pid}`]);
  const handlerEnd = run
    .all('hook')
    .find((e) => e.name === 'SIGINT handler quickCleanup' && e.phase === 'end');
  assert.equal(handlerEnd?.outcome, 'ok');
});

test('onShutdown hooks: each reported with its outcome — ok, error, timeout', async (t) => {
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'app.js'], {
    env: { FIXTURE_SHUTDOWN_HOOKS: 'ok,error,slow' },
  });
  await run.ready(1);
  run.signal('SIGTERM');
  await run.waitExit();
  const ends = Object.fromEntries(
    run
      .all('hook')
      .filter((e) => e.phase === 'end')
      .map((e) => [e.name, e]),
  );
  assert.equal(ends['hook-ok']?.outcome, 'ok');
  assert.equal(ends['hook-error']?.outcome, 'error');
  assert.equal(ends['hook-error']?.error, 'cleanup failed on purpose');
  assert.equal(ends['hook-slow']?.outcome, 'timeout');
  // Last registered runs first.
  const order = run
    .all('hook')
    .filter((e) => e.phase === 'start')
    .map((e) => e.name);
  assert.deepEqual(order, ['hook-slow', 'hook-error', 'hook-ok']);
});

test('--stop-on-stdin-close: when the tool that started the arbiter goes, it stops gracefully', async (t) => {
  const run = startArbiter(
    t,
    ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', '--stop-on-stdin-close', 'app.js'],
    { stdin: 'pipe' },
  );
  const workers = await run.ready(2);
  run.child.stdin!.end(); // as when the parent dies: its end of the pipe closes
  assert.equal((await run.waitExit()).code, 0);
  for (const worker of workers) {
    const exited = await run.waitFor('worker.exited', (e) => e.pid === worker.pid);
    assert.equal(exited.state, 'exited');
  }
  assert.equal(run.all('arbiter.exited')[0]?.reason, 'graceful stop');
  assert.match(run.output, /stdin closed/);
});
