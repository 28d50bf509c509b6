/**
 * Bind addresses that get past the parser's checks, and ports someone else holds: each is one
 * line that names the address and what is wrong, exit 2, and nothing left behind.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startArbiter } from '../support/arbiter-run';
import { assertCleanFailure, runCli, withApp } from '../support/cli-outcome';
import { freePort } from '../support/free-port';
import { neighbour, NOT_ROOT } from '../support/users';

test('the same bind twice', async (t) => {
  const { dir, app } = withApp(t);
  const port = await freePort();
  const outcome = await runCli(
    t,
    ['-b', `127.0.0.1:${port}`, '-b', `127.0.0.1:${port}`, '--no-reload', app],
    dir,
  );
  assertCleanFailure(outcome, dir, { code: 2, oneLine: true, says: [`127.0.0.1:${port} is given twice`] });
});

test('a port an arbiter already serves on: one line that names it', async (t) => {
  const { dir, app } = withApp(t);
  const port = await freePort();
  const first = startArbiter(t, ['-w', '1', '-b', `127.0.0.1:${port}`, '--no-reload', 'app.js']);
  await first.ready(1);
  const outcome = await runCli(t, ['-w', '1', '-b', `127.0.0.1:${port}`, '--no-reload', app], dir);
  assertCleanFailure(outcome, dir, {
    code: 2,
    oneLine: true,
    says: [`cannot listen on 127.0.0.1:${port}`, 'address already in use', `by pid ${first.pid} (`, 'cli.js'],
  });
});

test('a second arbiter on a port the first has bound but not yet served (its app still booting): the second ends in one line', async (t) => {
  const port = await freePort();
  const args = ['-w', '1', '-b', `127.0.0.1:${port}`, '--no-reload', 'app.js'];
  // The first one's app listens 2 s after it loads: until then its socket is bound, and only
  // that (no worker listens on it yet).
  const first = startArbiter(t, args, { env: { FIXTURE_BOOT_DELAY_MS: '2000' } });
  await first.waitFor('worker.spawned');
  const second = startArbiter(t, args);
  assert.equal((await second.waitExit()).code, 2, second.output);
  assert.match(second.output, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: address already in use`));
  assert.equal(second.output.trim().split('\n').length, 1, second.output);
  assert.deepEqual(second.all('worker.spawned'), []);
  await first.ready(1);
  first.signal('SIGTERM');
  assert.equal((await first.waitExit()).code, 0, first.output);
});

test('a unix: path longer than the system allows', async (t) => {
  const { dir, app } = withApp(t);
  const path = join(dir, `${'s'.repeat(120)}.sock`);
  const outcome = await runCli(t, ['-b', `unix:${path}`, '--no-reload', app], dir);
  assertCleanFailure(outcome, dir, {
    code: 2,
    oneLine: true,
    says: [`unix:${path}`, `is ${Buffer.byteLength(path)} bytes long`, 'at most 107'],
  });
});

test('a unix: socket in a folder that does not exist', async (t) => {
  const { dir, app } = withApp(t);
  const outcome = await runCli(t, ['-b', `unix:${join(dir, 'run', 'app.sock')}`, '--no-reload', app], dir);
  assertCleanFailure(outcome, dir, {
    code: 2,
    oneLine: true,
    says: [`the folder ${join(dir, 'run')} does not exist`],
  });
});

const user = neighbour();

test("a stale unix socket that is another user's", { skip: !user && NOT_ROOT }, async (t) => {
  const { dir, app } = withApp(t);
  chmodSync(dir, 0o755); // the neighbour runs the app
  const shared = mkdtempSync(join(tmpdir(), 'arbiter-shared-run-'));
  chmodSync(shared, 0o1777);
  t.after(() => rmSync(shared, { recursive: true, force: true }));
  const path = join(shared, 'app.sock');
  // Left by a server of root's that was killed: nothing listens, nothing removed the file.
  const killed = spawnSync(process.execPath, [
    '-e',
    `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
  ]);
  assert.equal(killed.signal, 'SIGKILL');
  const outcome = await runCli(t, ['-b', `unix:${path}`, '--no-reload', app], dir, { user: user! });
  assertCleanFailure(outcome, dir, {
    code: 2,
    oneLine: true,
    says: [`cannot listen on unix:${path}`, 'a socket left there by uid 0'],
  });
});
