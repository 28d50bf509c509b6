import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { get, load } from '../support/http';
import { isAlive, startArbiter, waitGone } from '../support/arbiter-run';
import { assertRecycledUnderLoad } from '../support/recycle';

test('a frozen worker is aborted, killed and replaced while the other keeps serving', async (t) => {
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', '--timeout', '1', 'app.js']);
  const workers = await run.ready(2);
  const port = await run.port();
  const frozen = (await get(port, '/freeze')).pid!;
  const other = workers.find((w) => w.pid !== frozen)!.pid;
  const timedOut = await run.waitFor('worker.state', (e) => e.pid === frozen && e.state === 'timed-out');
  assert.ok(timedOut);
  await run.waitFor('signal', (e) => e.pid === frozen && e.signal === 'SIGABRT');
  await run.waitFor('signal', (e) => e.pid === frozen && e.signal === 'SIGKILL');
  const exited = await run.waitFor('worker.exited', (e) => e.pid === frozen);
  assert.equal(exited.state, 'timed-out');
  const replacement = await run.waitFor(
    'worker.state',
    (e) => e.state === 'ready' && e.pid !== frozen && e.pid !== other,
  );
  assert.equal(replacement.generation, 1);
  const pids = new Set<number>();
  for (let i = 0; i < 20; i++) pids.add((await get(port)).pid!);
  assert.ok(!pids.has(frozen));
});

test('SIGKILL of the arbiter: every worker, its children and the standbys exit within 1 s, and the port is free', async (t) => {
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', 'app.js'], {
    env: { FIXTURE_ON_SIGTERM: 'ignore' },
  });
  const workers = await run.ready(2);
  const standbys = await run.standbys(2);
  const port = await run.port();
  const grandchild = Number((await get(port, '/spawn-child')).body);
  assert.ok(isAlive(grandchild));
  run.signal('SIGKILL');
  await run.waitExit();
  const took = await waitGone([...workers.map((w) => w.pid), ...standbys, grandchild], 1000);
  assert.ok(took <= 1000);
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer().listen(port, '127.0.0.1', () => server.close(() => resolve()));
    server.on('error', reject);
  });
});

test('max-requests recycles a worker: its replacement is ready before it leaves, no request fails', async (t) => {
  const run = startArbiter(t, [
    '-w',
    '1',
    '-b',
    '127.0.0.1:0',
    '--no-reload',
    '--max-requests',
    '20',
    'app.js',
  ]);
  const [first] = await run.ready(1);
  await assertRecycledUnderLoad(run, first!.pid);
});

test('max-requests-jitter spreads the limit between max-requests and max-requests + jitter', async (t) => {
  const run = startArbiter(t, [
    '-w',
    '1',
    '-b',
    '127.0.0.1:0',
    '--no-reload',
    '--max-requests',
    '5',
    '--max-requests-jitter',
    '3',
    'app.js',
  ]);
  const [first] = await run.ready(1);
  const port = await run.port();
  const draining = run.waitFor('worker.state', (e) => e.pid === first!.pid && e.state === 'draining');
  const traffic = load(port, draining, 1);
  const reason = (await draining).reason;
  await traffic;
  const limit = Number(/served (\d+) requests/.exec(reason)?.[1]);
  assert.ok(limit >= 5 && limit <= 8, reason);
});

test('TTIN adds a worker, TTOU removes the oldest, never below one', async (t) => {
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'app.js']);
  const [first] = await run.ready(1);
  run.signal('SIGTTIN');
  await run.waitFor('arbiter.workers', (e) => e.count === 2);
  await run.ready(2);
  run.signal('SIGTTOU');
  await run.waitFor('arbiter.workers', (e) => e.count === 1);
  const stopped = await run.waitFor('worker.exited', () => true);
  assert.equal(stopped.pid, first!.pid, 'the oldest worker leaves');
  run.signal('SIGTTOU');
  await run.waitFor(
    'signal',
    (e) =>
      e.direction === 'received' &&
      e.signal === 'SIGTTOU' &&
      run.all('signal').filter((s) => s.signal === 'SIGTTOU').length === 2,
  );
  run.signal('SIGTERM');
  await run.waitExit();
  assert.equal(run.all('arbiter.workers').length, 2, 'the second TTOU changed nothing');
  assert.match(run.output, /already at one worker/);
});

test('USR1 reopens the events file and reaches the app without opening the inspector', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-usr1-'));
  const eventsFile = join(dir, 'events.ndjson');
  const markers = join(dir, 'markers');
  const run = startArbiter(
    t,
    ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', '--events', eventsFile, 'app.js'],
    {
      env: { FIXTURE_MARKERS: markers, FIXTURE_ON_SIGUSR1: '1' },
    },
  );
  const [worker] = await run.ready(1);
  renameSync(eventsFile, `${eventsFile}.1`);
  run.signal('SIGUSR1');
  await run.waitFor('signal', (e) => e.direction === 'sent' && e.signal === 'SIGUSR1');
  run.signal('SIGTERM');
  await run.waitExit();
  assert.match(readFileSync(`${eventsFile}.1`, 'utf8'), /"arbiter.started"/);
  const reopened = readFileSync(eventsFile, 'utf8');
  assert.match(reopened, /"arbiter.exited"/);
  assert.doesNotMatch(reopened, /"arbiter.started"/);
  assert.equal(readFileSync(markers, 'utf8').trim(), `sigusr1 ${worker!.pid}`);
  assert.doesNotMatch(run.output, /Debugger listening/);
});

test('WINCH stops every worker but keeps the socket: a request waits, and TTIN serves it', async (t) => {
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', 'app.js']);
  const workers = await run.ready(2);
  const port = await run.port();
  run.signal('SIGWINCH');
  for (const worker of workers) await run.waitFor('worker.exited', (e) => e.pid === worker.pid);
  const waiting = get(port);
  run.signal('SIGTTIN');
  const response = await waiting;
  assert.equal(response.status, 200);
  const [revived] = (await run.ready(3)).slice(2);
  assert.equal(response.pid, revived!.pid);
});

test('workers that crash right after they are ready, while their generation boots: the boot fails in one story, not a hang', async (t) => {
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', '--no-standby', 'app.js'], {
    // Worker 1 is up and gone before worker 2 (listening 300 ms later) is ready.
    env: { FIXTURE_CRASH_AFTER_LISTEN: 'always', FIXTURE_STAGGER_MS: '300' },
  });
  assert.equal((await run.waitExit()).code, 3, run.output);
  assert.match(
    run.output,
    /worker \d+ crashed after it was ready, while its generation was still booting \(exit code 7\)/,
  );
});

test("a new generation whose worker crashes right after it is ready: it went live, so the crash is a worker's, replaced with backoff", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-crash-after-ready-'));
  const marker = join(dir, 'crash');
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', '--no-standby', 'app.js'], {
    env: { FIXTURE_CRASH_AFTER_LISTEN: marker, FIXTURE_STAGGER_MS: '300' },
  });
  await run.ready(2);
  writeFileSync(marker, '');
  run.signal('SIGHUP');
  // Live at its first ready worker, as a cycle is since "live at the first ready worker": the
  // old generation was stopped then, and what the new one does next is its own (as with -w 1).
  await run.waitFor('reload', (e) => e.phase === 'completed' && e.generation === 2);
  const crashed = await run.waitFor('worker.exited', (e) => e.generation === 2 && e.state === 'crashed');
  await run.waitFor('worker.spawned', (e) => e.generation === 2 && e.id > crashed.id + 1);
  await run.waitForOutput(/starting a worker again in \d+ ms/);
  assert.equal(run.all('reload').filter((e) => e.phase === 'failed').length, 0);
});
