import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { get } from '../support/http';
import { startArbiter, type ArbiterRun } from '../support/arbiter-run';

/** A project whose server answers with its version; `version(n)` rewrites it. */
function project(): { dir: string; app: string; version: (v: string) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-watch-'));
  const app = join(dir, 'server.js');
  const version = (v: string) =>
    writeFileSync(
      app,
      [
        `const http = require('node:http');`,
        `const VERSION = '${v}';`,
        `http.createServer((q, s) => { s.setHeader('x-worker-pid', String(process.pid)); s.end(VERSION); })`,
        `  .listen(process.env.PORT);`,
        ``,
      ].join('\n'),
    );
  version('v1');
  return { dir, app, version };
}

async function serving(run: ArbiterRun, body: string): Promise<void> {
  const port = await run.port();
  assert.equal((await get(port)).body, body);
}

test('an edit becomes one cycle and the new code is served; the old generation exits', async (t) => {
  const { dir, app, version } = project();
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', 'server.js'], { cwd: dir });
  const old = await run.ready(2);
  version('v2');
  const completed = await run.waitFor('reload', (e) => e.phase === 'completed');
  const triggered = run.all('reload').filter((e) => e.phase === 'triggered');
  assert.equal(triggered.length, 1);
  assert.deepEqual(triggered[0]!.files, [app]);
  await run.ready(2, completed.generation);
  await serving(run, 'v2');
  for (const worker of old) {
    assert.equal((await run.waitFor('worker.exited', (e) => e.pid === worker.pid)).state, 'exited');
  }
});

test('a burst of 200 writes and an editor save-by-rename become one cycle; ignored paths none', async (t) => {
  const { dir, app, version } = project();
  writeFileSync(join(dir, '.gitignore'), 'logs/\n*.log\n');
  mkdirSync(join(dir, 'node_modules'));
  mkdirSync(join(dir, 'logs'));
  mkdirSync(join(dir, 'lib'));
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', 'server.js'], { cwd: dir });
  await run.ready(1);
  // Ignored: nothing of these may appear in a cycle.
  writeFileSync(join(dir, 'node_modules', 'dep.js'), '1');
  writeFileSync(join(dir, 'logs', 'today.txt'), '1');
  writeFileSync(join(dir, 'app.log'), '1');
  writeFileSync(join(dir, '.server.js.swp'), '1');
  // A burst, then the app saved the way editors do: a temp file renamed over it.
  for (let i = 0; i < 200; i++) writeFileSync(join(dir, 'lib', `m${i}.js`), `module.exports = ${i};\n`);
  const source = readFileSync(app, 'utf8').replace("'v1'", "'v2'");
  writeFileSync(`${app}.tmp-save`, source);
  renameSync(`${app}.tmp-save`, app);
  const completed = await run.waitFor('reload', (e) => e.phase === 'completed');
  await run.ready(1, completed.generation);
  await serving(run, 'v2');
  // One more real edit proves the watcher is quiet otherwise: its cycle is the second, and
  // no cycle ever named an ignored file.
  version('v3');
  await run.waitFor('reload', (e) => e.phase === 'completed' && e.generation > completed.generation);
  const triggered = run.all('reload').filter((e) => e.phase === 'triggered');
  assert.equal(triggered.length, 2, JSON.stringify(triggered.map((e) => e.files?.length)));
  const named = triggered.flatMap((e) => e.files ?? []);
  assert.ok(!named.some((file) => /node_modules|logs|\.log$|\.swp$/.test(file)), named.join(', '));
  await serving(run, 'v3');
});

test('a syntax error keeps the old generation serving and is reported at its line; the fix recovers', async (t) => {
  const { dir, app, version } = project();
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', 'server.js'], { cwd: dir });
  await run.ready(2);
  writeFileSync(app, readFileSync(app, 'utf8').replace("const VERSION = 'v1';", "const VERSION = 'v2';;}"));
  const failed = await run.waitFor('reload', (e) => e.phase === 'failed');
  assert.equal(failed.error?.file, app);
  assert.equal(failed.error?.line, 2);
  await serving(run, 'v1');
  version('v3');
  const completed = await run.waitFor('reload', (e) => e.phase === 'completed');
  await run.ready(2, completed.generation);
  await serving(run, 'v3');
});

test('editing the config file re-reads it', async (t) => {
  const { dir } = project();
  const config = join(dir, 'arbiter.config.mjs');
  writeFileSync(config, 'export default { workers: 1 };\n');
  const run = startArbiter(t, ['-b', '127.0.0.1:0', 'server.js'], { cwd: dir });
  await run.ready(1);
  writeFileSync(config, 'export default { workers: 2 };\n');
  const completed = await run.waitFor('reload', (e) => e.phase === 'completed');
  assert.equal((await run.ready(2, completed.generation)).length, 2);
});
