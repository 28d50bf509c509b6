import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get } from '../support/http';
import { isAlive, startArbiter, waitGone, type ArbiterRun } from '../support/arbiter-run';

const ARGS = ['-b', '127.0.0.1:0', '--no-reload', 'app.js'];

/** HUP, and the completed cycle's workers. */
async function hup(run: ArbiterRun, generation: number): Promise<number[]> {
  run.signal('SIGHUP');
  await run.waitFor('reload', (e) => e.phase === 'completed' && e.generation === generation);
  return run
    .all('worker.spawned')
    .filter((e) => e.generation === generation)
    .map((e) => e.pid);
}

test('a cycle boots its workers in the standbys started before it, then a fresh pair waits', async (t) => {
  const run = startArbiter(t, ['-w', '2', ...ARGS]);
  const first = await run.ready(2);
  const standbys = await run.standbys(2);
  assert.equal(run.all('standby').length, 2, 'started once the first generation was ready');
  for (const pid of standbys) assert.ok(isAlive(pid));
  assert.ok(!standbys.some((pid) => first.some((w) => w.pid === pid)));

  const second = await hup(run, 2);
  assert.deepEqual(new Set(second), new Set(standbys), 'generation 2 runs in the standbys');
  const next = await run.standbys(2);
  assert.ok(!next.some((pid) => standbys.includes(pid)));
  await waitGone(
    first.map((w) => w.pid),
    5000,
  );
  assert.ok(second.includes((await get(await run.port())).pid!), 'served by a generation 2 worker');
  // The fixture loads nothing from node_modules: the standbys had nothing to preload, and say so.
  for (const deps of run.all('worker.deps').filter((e) => e.generation === 2))
    assert.deepEqual([deps.warm, deps.reason], [false, 'the serving workers loaded no third-party modules']);

  run.signal('SIGTERM');
  assert.equal((await run.waitExit()).code, 0);
  await waitGone(next, 1000);
  const ended = run.all('standby').filter((e) => e.phase === 'ended');
  assert.deepEqual(new Set(ended.map((e) => e.pid)), new Set(next), 'the unused ones end with the arbiter');
});

test('--no-standby: no process is started ahead; a cycle starts its workers cold', async (t) => {
  const run = startArbiter(t, ['-w', '2', '--no-standby', ...ARGS]);
  await run.ready(2);
  await hup(run, 2);
  await hup(run, 3);
  assert.deepEqual(run.all('standby'), []);
});

test('a standby killed while it waits is reported; the next cycle still boots, and standbys come back', async (t) => {
  const run = startArbiter(t, ['-w', '2', ...ARGS]);
  await run.ready(2);
  const [victim, survivor] = (await run.standbys(2)) as [number, number];
  process.kill(victim, 'SIGKILL');
  const ended = await run.waitFor('standby', (e) => e.pid === victim && e.phase === 'ended');
  assert.equal(ended.reason, 'killed by SIGKILL');
  await run.waitForOutput(new RegExp(`standby worker \\(pid ${victim}\\) killed by SIGKILL`));

  const second = await hup(run, 2);
  assert.ok(second.includes(survivor), 'the survivor became a worker');
  assert.ok(!second.includes(victim));
  assert.equal((await run.standbys(2)).length, 2);
});

test('standbys that keep dying unused: the arbiter stops starting them and workers start cold', async (t) => {
  const run = startArbiter(t, ['-w', '2', ...ARGS]);
  await run.ready(2);
  const killAll = async () => {
    for (const pid of await run.standbys(2)) {
      process.kill(pid, 'SIGKILL');
      await run.waitFor('standby', (e) => e.pid === pid && e.phase === 'ended');
    }
  };
  await killAll(); // two deaths in a row
  await hup(run, 2); // cold: none is left
  const [last] = await run.standbys(2);
  process.kill(last!, 'SIGKILL'); // the third
  await run.waitFor('standby', (e) => e.pid === last && e.phase === 'ended');
  await run.waitForOutput(/standby workers keep dying unused \(killed by SIGKILL\): workers start cold/);
  const before = run.all('standby').length;
  await hup(run, 3);
  await hup(run, 4);
  const started = run.all('standby').slice(before);
  assert.ok(
    started.every((e) => e.phase === 'ended'),
    `no standby started after giving up: ${JSON.stringify(started)}`,
  );
});
