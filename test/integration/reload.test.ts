import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { get, load } from '../support/http';
import { startArbiter } from '../support/arbiter-run';

test('HUP under continuous load: a new generation, zero failed requests', async (t) => {
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', 'app.js']);
  await run.ready(2);
  const port = await run.port();
  let finishReloads!: () => void;
  const reloadsDone = new Promise<void>((resolve) => (finishReloads = resolve));
  const traffic = load(port, reloadsDone, 4);
  for (let generation = 2; generation <= 4; generation++) {
    run.signal('SIGHUP');
    await run.waitFor('reload', (event) => event.phase === 'completed' && event.generation === generation);
  }
  // The old generations must be gone before the load stops, so their exit is under load too.
  for (const spawned of run.all('worker.spawned').filter((event) => event.generation < 4)) {
    await run.waitFor('worker.exited', (event) => event.id === spawned.id);
  }
  finishReloads();
  const result = await traffic;
  assert.equal(result.failed, 0, `failed requests: ${result.errors.slice(0, 5).join(', ')}`);
  assert.ok(result.ok > 50, `only ${result.ok} requests went through`);
  for (const exited of run.all('worker.exited')) assert.equal(exited.state, 'exited', exited.reason);
  const serving = new Set((await run.ready(2, 4)).map((event) => event.pid));
  assert.ok(serving.has((await get(port)).pid!));
});

test('the old generation is stopped once the first new worker is ready, and the new one accepts after', async (t) => {
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', 'app.js']);
  await run.ready(2);
  run.signal('SIGHUP');
  await run.waitFor('reload', (event) => event.phase === 'completed');
  await run.ready(2, 2);
  const newReady = run.all('worker.state').filter((e) => e.generation === 2 && e.state === 'ready');
  const oldDraining = run.all('worker.state').filter((e) => e.generation === 1 && e.state === 'draining');
  assert.equal(oldDraining.length, 2);
  const firstReady = Math.min(...newReady.map((e) => run.events.indexOf(e)));
  for (const draining of oldDraining) assert.ok(run.events.indexOf(draining) > firstReady);
});

test('a slow request in flight completes across HUP', async (t) => {
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'app.js']);
  const [first] = await run.ready(1);
  const port = await run.port();
  const slow = get(port, '/slow?ms=1500');
  await run.waitFor('worker.stats', (event) => event.inflight === 1);
  run.signal('SIGHUP');
  await run.waitFor('reload', (event) => event.phase === 'completed');
  const response = await slow;
  assert.equal(response.status, 200);
  assert.equal(response.body, 'start;done after 1500 ms');
  assert.equal(response.pid, first!.pid);
  const exited = await run.waitFor('worker.exited', (event) => event.pid === first!.pid);
  assert.equal(exited.state, 'exited');
});

test('a generation that fails to boot leaves the old one serving, reports the error, and recovers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-bootfail-'));
  const poison = join(dir, 'poison');
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', 'app.js'], {
    env: { FIXTURE_FAIL_IF_EXISTS: poison },
  });
  const oldPids = new Set((await run.ready(2)).map((event) => event.pid));
  const port = await run.port();
  writeFileSync(poison, '');
  run.signal('SIGHUP');
  const failed = await run.waitFor('reload', (event) => event.phase === 'failed');
  assert.equal(failed.generation, 2);
  assert.match(failed.error?.message ?? '', /fixture told to fail at import/);
  assert.match(failed.error?.file ?? '', /app\.js$/);
  assert.equal(typeof failed.error?.line, 'number');
  assert.match(failed.error?.stack ?? '', /at .*app\.js/);
  for (let i = 0; i < 5; i++) assert.ok(oldPids.has((await get(port)).pid!));
  rmSync(poison);
  run.signal('SIGHUP');
  const completed = await run.waitFor('reload', (event) => event.phase === 'completed');
  assert.equal(completed.generation, 3);
  const fresh = await run.ready(2, 3);
  const newPids = new Set(fresh.map((event) => event.pid));
  await run.waitFor('worker.exited', (event) => oldPids.has(event.pid));
  assert.ok(newPids.has((await get(port)).pid!));
});

test('a worker that keeps failing to boot is restarted with backoff, not in a storm', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-backoff-'));
  const poison = join(dir, 'poison');
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'app.js'], {
    env: { FIXTURE_FAIL_IF_EXISTS: poison },
  });
  const [first] = await run.ready(1);
  writeFileSync(poison, '');
  process.kill(first!.pid, 'SIGKILL');
  // Replacements fail at import; wait for five of them.
  const failures = () => run.all('worker.exited').filter((event) => event.state === 'boot-failed');
  while (failures().length < 5) await run.waitForNext('worker.exited');
  // The wait before each restart is the time from a failed worker's exit to the next spawn:
  // immediate after the first failure, then 100, 200, 400 ms.
  const exits = run.all('worker.exited').slice(0, 5);
  const spawns = run.all('worker.spawned').slice(1, 6);
  const waits = exits.map((exit, i) => spawns[i]!.ts - exit.ts);
  const shown = `waits ${waits.join(', ')} ms`;
  assert.ok(waits[0]! < 90, shown);
  // What the arbiter chose is exact; how late a timer fires is the machine's (a loaded one
  // fires a 100 ms timer 200 ms late), so the measured waits are bounded loosely above.
  await run.waitForOutput(/starting a worker again in 400 ms/);
  const announced = [...run.output.matchAll(/starting a worker again in (\d+) ms/g)].map((m) => Number(m[1]));
  assert.deepEqual(announced.slice(0, 3), [100, 200, 400]);
  for (const [i, expected] of [
    [1, 100],
    [2, 200],
    [3, 400],
  ] as const) {
    assert.ok(waits[i]! >= expected - 2 && waits[i]! < expected + 1_000, shown);
  }
  rmSync(poison);
  await run.waitForNext('worker.state', (event) => event.state === 'ready', 10_000);
});

test('a save that leaves the app not listening (an empty file, mid-save): the reload fails at once, the old generation serves on', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-empty-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'server.js');
  const server = (version: string) =>
    `require('node:http').createServer((_q, s) => s.end('${version}')).listen(process.env.PORT);\n`;
  writeFileSync(file, server('v1'));
  // A boot timeout no deadline of this test reaches: the failure must come from the exit.
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', '--boot-timeout', '120', 'server.js'], {
    cwd: dir,
  });
  await run.ready(2);
  await run.waitFor('watcher.ready');
  const port = await run.port();
  writeFileSync(file, '');
  const failed = await run.waitFor('reload', (e) => e.phase !== 'triggered');
  assert.equal(failed.phase, 'failed', run.output);
  assert.match(failed.error?.message ?? '', /exited before it was ready \(exit code 0\)/);
  assert.equal((await get(port)).body, 'v1', 'the old generation serves');
  writeFileSync(file, server('v2'));
  const completed = await run.waitFor('reload', (e) => e.phase === 'completed');
  await run.ready(2, completed.generation);
  assert.equal((await get(port)).body, 'v2');
});
