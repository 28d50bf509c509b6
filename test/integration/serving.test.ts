import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { get } from '../support/http';
import { startArbiter } from '../support/arbiter-run';

test('boots two workers on a shared socket and serves from both', async (t) => {
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', 'app.js']);
  const started = await run.waitFor('arbiter.started');
  assert.equal(started.pid, run.pid);
  assert.equal(started.config.workers, 2);
  const ready = await run.ready(2);
  const pids = new Set(ready.map((event) => event.pid));
  assert.equal(pids.size, 2);
  const port = await run.port();
  const seen = new Set<number>();
  for (let i = 0; i < 40 && seen.size < 2; i++) {
    const response = await get(port);
    assert.equal(response.status, 200);
    seen.add(response.pid!);
  }
  for (const pid of seen) assert.ok(pids.has(pid), `response from ${pid}, which is not a reported worker`);
  for (const event of run.all('worker.spawned')) assert.equal(event.generation, 1);
  assert.deepEqual(run.invalidLines, []);
});

test('a connection made before the first worker is ready waits in the backlog and is served', async (t) => {
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'app.js'], {
    env: { FIXTURE_BOOT_DELAY_MS: '500' },
  });
  const port = await run.port();
  assert.equal(run.all('worker.state').filter((e) => e.state === 'ready').length, 0);
  const response = await get(port);
  assert.equal(response.status, 200);
  // The answer comes from the worker and the event through the arbiter: either may reach the test first.
  await run.waitFor('worker.state', (e) => e.state === 'ready' && e.pid === response.pid);
});

test('serves on a Unix socket and on several addresses at once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-unix-'));
  const socketPath = join(dir, 'app.sock');
  const run = startArbiter(t, [
    '-w',
    '1',
    '-b',
    `unix:${socketPath}`,
    '-b',
    '127.0.0.1:0',
    '--no-reload',
    'app.js',
  ]);
  const started = await run.waitFor('arbiter.started');
  assert.deepEqual(started.listeners[0], { path: socketPath });
  await run.ready(1);
  const viaSocket = await get(0, '/', { socketPath });
  assert.equal(viaSocket.status, 200);
  const viaTcp = await get(await run.port());
  assert.equal(viaTcp.pid, viaSocket.pid);
});

test('serves a module whose default export is a request handler (CommonJS and ESM)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-handler-'));
  writeFileSync(join(dir, 'handler.cjs'), `module.exports = (req, res) => res.end('cjs handler');\n`);
  writeFileSync(join(dir, 'handler.mjs'), `export default (req, res) => res.end('esm handler');\n`);
  for (const [file, body] of [
    ['handler.cjs', 'cjs handler'],
    ['handler.mjs', 'esm handler'],
  ] as const) {
    const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', file], { cwd: dir });
    await run.ready(1);
    const response = await get(await run.port());
    assert.equal(response.body, body);
    run.signal('SIGTERM');
    assert.equal((await run.waitExit()).code, 0);
  }
});

test('an app that hard-codes its port is served on the arbiter socket, with a notice', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-hardcoded-'));
  writeFileSync(
    join(dir, 'server.js'),
    `require('http').createServer((q, s) => s.end('hard-coded')).listen(3999);\n`,
  );
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', 'server.js'], { cwd: dir });
  await run.ready(1);
  assert.equal((await get(await run.port())).body, 'hard-coded');
  assert.match(run.output, /listened on port 3999, not on PORT/);
});
