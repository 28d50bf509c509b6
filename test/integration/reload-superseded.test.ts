/**
 * A save that comes while the last save's generation still boots makes that generation stale:
 * it is superseded — its workers stopped before any serves, the reload said `superseded` — and
 * the newer code boots at once, instead of after the stale boot ends (or times out).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { startArbiter } from '../support/arbiter-run';
import { get } from '../support/http';

const server = (version: string) =>
  `require('node:http').createServer((_q, s) => s.end('${version}')).listen(process.env.PORT);\n`;

function project(t: TestContext): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-superseded-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'server.js');
  writeFileSync(file, server('v1'));
  return { dir, file };
}

test('a save while the last save boots supersedes it: the newer code serves at once, the stale generation never does', async (t) => {
  const { dir, file } = project(t);
  // A boot timeout no deadline of this test reaches: the stale boot must end by the new save.
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', '--boot-timeout', '120', 'server.js'], {
    cwd: dir,
  });
  await run.ready(2);
  await run.waitFor('watcher.ready');
  const port = await run.port();
  assert.equal((await get(port)).body, 'v1');

  // Code that boots for longer than anyone waits (a slow framework start, a database not up):
  // both its workers say they loaded it before the next save.
  writeFileSync(file, `console.log('loaded the stale code');\nsetInterval(() => undefined, 1000);\n`);
  await run.waitForOutput(/loaded the stale code[^]*loaded the stale code/);
  writeFileSync(file, server('v3'));

  const superseded = await run.waitFor('reload', (e) => e.generation === 2 && e.phase !== 'triggered');
  assert.equal(superseded.phase, 'superseded', run.output);
  const completed = await run.waitFor('reload', (e) => e.phase === 'completed');
  assert.equal(completed.generation, 3);
  await run.ready(2, 3);
  assert.equal((await get(port)).body, 'v3');
  for (const spawned of run.all('worker.spawned').filter((e) => e.generation === 2)) {
    const exited = await run.waitFor('worker.exited', (e) => e.id === spawned.id);
    assert.match(exited.reason, /superseded/);
  }
  assert.ok(
    !run.all('worker.state').some((e) => e.generation === 2 && e.state === 'ready'),
    'no worker of the stale generation was ready',
  );
  assert.ok(!run.all('reload').some((e) => e.phase === 'failed'), 'a superseded reload is no failure');
  await run.waitForOutput(/generation 2 superseded by a newer change before it served/);
});

test('a save once the new generation is live does not supersede it: the save cycles after', async (t) => {
  const { dir, file } = project(t);
  // The second worker of each generation boots slowly: the generation is live (at its first
  // ready worker) well before it is whole. The first of a version to make its folder is quick.
  // (The folders outside the project: one made inside would be a change.)
  const markers = mkdtempSync(join(tmpdir(), 'arbiter-superseded-markers-'));
  t.after(() => rmSync(markers, { recursive: true, force: true }));
  const slowSecond = (version: string) =>
    [
      `const first = (() => { try { require('node:fs').mkdirSync(${JSON.stringify(join(markers, 'first-'))} + '${version}'); return true; } catch { return false; } })();`,
      `const serve = () => require('node:http').createServer((_q, s) => s.end('${version}')).listen(process.env.PORT);`,
      `setTimeout(serve, first ? 0 : 1500);`,
    ].join('\n');
  writeFileSync(file, slowSecond('v1'));
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', 'server.js'], { cwd: dir });
  await run.ready(2);
  await run.waitFor('watcher.ready');
  writeFileSync(file, slowSecond('v2'));
  await run.waitFor('reload', (e) => e.phase === 'completed' && e.generation === 2);
  writeFileSync(file, slowSecond('v3'));
  await run.waitFor('reload', (e) => e.phase === 'completed' && e.generation === 3);
  await run.ready(2, 3);
  assert.ok(!run.all('reload').some((e) => e.phase === 'superseded'));
  assert.equal((await get(await run.port())).body, 'v3');
});
