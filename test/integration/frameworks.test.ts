/**
 * Ordinary Express, Koa and Fastify apps run under the arbiter with no change to their code:
 * each calls listen(PORT) the framework's usual way and is served on the arbiter's socket,
 * cycled by HUP and stopped cleanly by TERM.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { get, load } from '../support/http';
import { startArbiter, type ArbiterRun } from '../support/arbiter-run';

const FRAMEWORKS = ['express', 'koa', 'fastify'] as const;

/** GETs / until both ready workers answered (at most 40 tries); every answer must be the app's. */
async function serveFromWorkers(run: ArbiterRun, framework: string, pids: Set<number>): Promise<void> {
  const port = await run.port();
  const seen = new Set<number>();
  for (let i = 0; i < 40 && seen.size < pids.size; i++) {
    const response = await get(port);
    assert.equal(response.status, 200);
    assert.ok(response.pid !== undefined, `no x-worker-pid header: ${response.body}`);
    assert.equal(response.body, `hello from ${framework} ${response.pid}`);
    assert.ok(pids.has(response.pid), `response from ${response.pid}, which is not a ready worker`);
    seen.add(response.pid);
  }
  assert.ok(seen.size >= 1);
}

for (const framework of FRAMEWORKS) {
  test(`${framework}: serves unchanged, reloads on HUP, stops cleanly on TERM`, async (t) => {
    const markers = join(mkdtempSync(join(tmpdir(), `arbiter-${framework}-`)), 'markers');
    const run = startArbiter(
      t,
      ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', `frameworks/${framework}-app.js`],
      { env: { FIXTURE_MARKERS: markers } },
    );
    const first = await run.ready(2, 1);
    const firstPids = new Set(first.map((event) => event.pid));
    assert.equal(firstPids.size, 2);
    await serveFromWorkers(run, framework, firstPids);

    run.signal('SIGHUP');
    const completed = await run.waitFor('reload', (e) => e.phase === 'completed');
    assert.equal(completed.generation, 2);
    assert.equal(completed.trigger, 'SIGHUP');
    const second = await run.ready(2, 2);
    const secondPids = new Set(second.map((event) => event.pid));
    for (const pid of firstPids) {
      const exited = await run.waitFor('worker.exited', (e) => e.pid === pid);
      assert.equal(exited.state, 'exited', exited.reason);
      assert.equal(exited.code, 0);
    }
    await serveFromWorkers(run, framework, secondPids);

    run.signal('SIGTERM');
    assert.equal((await run.waitExit()).code, 0, run.output);
    const exits = run.all('worker.exited');
    assert.equal(exits.length, 4);
    for (const exited of exits) assert.equal(exited.state, 'exited', `${exited.pid}: ${exited.reason}`);
    assert.deepEqual(new Set(exits.map((e) => e.pid)), new Set(run.workerPids()));
    assert.equal(run.all('arbiter.exited')[0]?.code, 0);
    assert.deepEqual(run.invalidLines, []);

    if (framework === 'fastify') {
      // The app's own SIGTERM handler ran in every worker, each stop, and Fastify's onClose with it.
      const ends = run
        .all('hook')
        .filter((e) => e.name === 'SIGTERM handler closeFastify' && e.phase === 'end');
      assert.deepEqual(
        new Set(ends.map((e) => e.pid)),
        new Set(run.workerPids()),
        JSON.stringify(run.all('hook')),
      );
      for (const end of ends) {
        assert.equal(end.scope, 'worker');
        assert.equal(end.outcome, 'ok');
        assert.equal(typeof end.durationMs, 'number');
      }
      const lines = readFileSync(markers, 'utf8').trim().split('\n');
      for (const pid of run.workerPids()) {
        assert.deepEqual(
          lines.filter((line) => line.endsWith(` ${pid}`)).map((line) => line.split(' ')[0]),
          ['sigterm', 'fastify-onClose', 'closed'],
        );
      }
    }
  });
}

test('fastify: a worker whose SIGTERM handler closed its server is not reported as lingering', async (t) => {
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'frameworks/fastify-app.js']);
  await run.ready(1);
  run.signal('SIGTERM');
  assert.equal((await run.waitExit()).code, 0);
  assert.equal(run.all('worker.exited')[0]?.state, 'exited');
  assert.deepEqual(run.all('worker.lingering'), []);
});

test('fastify closing itself on SIGTERM (as close-with-grace does): no 503 and no failed request over 10 reloads under load', async (t) => {
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', 'frameworks/fastify-app.js']);
  await run.ready(2, 1);
  const port = await run.port();
  let cycles = 0;
  const reloads = (async () => {
    for (let generation = 2; generation <= 11; generation++) {
      run.signal('SIGHUP');
      await run.waitFor('reload', (e) => e.phase === 'completed' && e.generation === generation);
      // The old generation is gone (its close ran with the load still on) before the next HUP.
      await run.waitFor('worker.exited', () => run.all('worker.exited').length === 2 * (generation - 1));
      cycles++;
    }
  })();
  const result = await load(port, reloads, 4);
  assert.equal(cycles, 10);
  assert.equal(result.failed, 0, result.errors.slice(0, 5).join('\n'));
  assert.ok(result.ok > 100, `only ${result.ok} requests`);
});

/** The worker hooks the old worker of a HUP ran, as [name, outcome]. */
async function hooksOfOldWorker(run: ArbiterRun): Promise<[string, string | undefined][]> {
  const [old] = await run.ready(1, 1);
  run.signal('SIGHUP');
  await run.waitFor('worker.exited', (e) => e.pid === old!.pid);
  return run
    .all('hook')
    .filter((e) => e.scope === 'worker' && e.pid === old!.pid && e.phase === 'end')
    .map((e) => [e.name, e.outcome]);
}

test("the frameworks' own shutdown hooks are reported one by one: Fastify's onClose, an Express server.close callback", async (t) => {
  const fastify = startArbiter(t, [
    '-w',
    '1',
    '-b',
    '127.0.0.1:0',
    '--no-reload',
    'frameworks/fastify-app.js',
  ]);
  assert.deepEqual(await hooksOfOldWorker(fastify), [
    ['fastify onClose closeDatabase', 'ok'],
    ['SIGTERM handler closeFastify', 'ok'],
  ]);
  const express = startArbiter(t, [
    '-w',
    '1',
    '-b',
    '127.0.0.1:0',
    '--no-reload',
    'frameworks/express-close.js',
  ]);
  const hooks = await hooksOfOldWorker(express);
  assert.deepEqual(
    hooks.map(([name]) => name),
    ['SIGTERM handler stopServer', 'server.close callback closePool'],
  );
});
