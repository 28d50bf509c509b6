import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { get } from '../support/http';
import { startArbiter } from '../support/arbiter-run';

const ARGS = ['-b', '127.0.0.1:0', '--no-reload'];

test('holdReady: a worker neither accepts nor counts as ready until the app releases it', async (t) => {
  const releaseFile = join(mkdtempSync(join(tmpdir(), 'arbiter-hold-')), 'release');
  const run = startArbiter(t, ['-w', '1', ...ARGS, 'long-lived.js'], {
    env: { FIXTURE_RELEASE_FILE: releaseFile },
  });
  await run.waitFor('worker.spawned');
  let releasedAt = Date.now();
  writeFileSync(releaseFile, '');
  const [old] = await run.ready(1);
  assert.ok(old!.ts >= releasedAt, 'ready only after the release');
  const port = await run.port();

  // The next generation finds the file missing and holds: the old one keeps every request.
  rmSync(releaseFile);
  run.signal('SIGHUP');
  const held = await run.waitFor('worker.spawned', (e) => e.generation === 2);
  for (let i = 0; i < 10; i++) assert.equal((await get(port)).pid, old!.pid);
  assert.equal(run.all('worker.state').filter((e) => e.id === held.id && e.state === 'ready').length, 0);
  releasedAt = Date.now();
  writeFileSync(releaseFile, '');
  const completed = await run.waitFor('reload', (e) => e.phase === 'completed');
  assert.ok(completed.ts >= releasedAt);
  await run.waitFor('worker.exited', (e) => e.pid === old!.pid);
  assert.equal((await get(port)).pid, held.pid);
});

test('--reload-mode replace: the old generation is gone before the new one starts; requests wait, none fail', async (t) => {
  const run = startArbiter(t, ['-w', '2', ...ARGS, '--reload-mode', 'replace', 'app.js']);
  const old = await run.ready(2);
  const port = await run.port();
  run.signal('SIGHUP');
  await run.waitFor('worker.state', (e) => e.generation === 1 && e.state === 'draining');
  const during = get(port); // sent while the generation is being replaced
  await run.waitFor('reload', (e) => e.phase === 'completed');
  const response = await during;
  assert.equal(response.status, 200);
  const lastOldExit = Math.max(
    ...old.map((w) => run.events.findIndex((e) => e.type === 'worker.exited' && e.pid === w.pid)),
  );
  const firstNewSpawn = run.events.findIndex((e) => e.type === 'worker.spawned' && e.generation === 2);
  assert.ok(
    lastOldExit !== -1 && lastOldExit < firstNewSpawn,
    'every old worker exited before the first new one was spawned',
  );
});

test('long-lived connections (SSE, upgraded sockets) get a short grace on reload, not the whole graceful timeout', async (t) => {
  const run = startArbiter(t, [
    '-w',
    '1',
    ...ARGS,
    '--graceful-timeout',
    '60',
    '--long-lived-grace',
    '0.3',
    'long-lived.js',
  ]);
  const [old] = await run.ready(1);
  const port = await run.port();
  const sseEnded = new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/events', agent: false }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
  const upgradedClosed = new Promise<void>((resolve, reject) => {
    http
      .request({ host: '127.0.0.1', port, agent: false, headers: { connection: 'upgrade', upgrade: 'test' } })
      .on('upgrade', (_response, socket: net.Socket) => {
        socket.resume();
        socket.on('close', () => resolve());
      })
      .on('error', reject)
      .end();
  });
  await run.waitFor('worker.stats', (e) => e.inflight === 1);
  run.signal('SIGHUP');
  assert.match(await sseEnded, /hello from/);
  await upgradedClosed;
  const exited = await run.waitFor('worker.exited', (e) => e.pid === old!.pid);
  assert.equal(exited.state, 'exited', 'it left by itself, long before its 60 s deadline');
});

test('a connection that never sent a request (a browser preconnect) does not hold a reload: closed at the long-lived grace', async (t) => {
  const run = startArbiter(t, [
    '-w',
    '1',
    ...ARGS,
    '--graceful-timeout',
    '60',
    '--long-lived-grace',
    '0.3',
    'app.js',
  ]);
  const [old] = await run.ready(1);
  const port = await run.port();
  const preconnect = net.connect(port, '127.0.0.1');
  const closed = new Promise<void>((resolve) => preconnect.once('close', () => resolve()));
  preconnect.on('error', () => undefined);
  await new Promise<void>((resolve) => preconnect.once('connect', () => resolve()));
  run.signal('SIGHUP');
  const exited = await run.waitFor('worker.exited', (e) => e.pid === old!.pid);
  assert.equal(exited.state, 'exited', 'it left by itself, long before its 60 s deadline');
  await closed;
});
