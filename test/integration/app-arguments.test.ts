/**
 * An app under the arbiter sees the command line it would see under `node APP ARGS`: its own
 * path once, its arguments, Node's flags; and so does a child it forks with cluster.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { FIXTURES, startArbiter } from '../support/arbiter-run';
import { freePort } from '../support/free-port';
import { get } from '../support/http';

const APP = join(FIXTURES, 'argv.js');
const ARGS = ['start', '-l', 'info', '--port=1', 'app.js'];

/** What plain `node argv.js ARGS` answers on `path`. */
async function underNode(t: TestContext, path: string): Promise<unknown> {
  const port = await freePort();
  const child = spawn(process.execPath, [APP, ...ARGS], {
    env: { ...process.env, PORT: String(port) },
    stdio: 'ignore',
  });
  t.after(() => void child.kill('SIGKILL'));
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return JSON.parse((await get(port, path)).body);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNREFUSED' || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20)); // until plain node listens
    }
  }
}

test('process.argv, process.execArgv and require.main are what `node APP ARGS` gives, in the app and in its cluster.fork() children', async (t) => {
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'argv.js', ...ARGS]);
  await run.ready(1);
  const port = await run.port();
  for (const path of ['/', '/fork']) {
    const expected = await underNode(t, path);
    assert.deepEqual(JSON.parse((await get(port, path)).body), expected, path);
  }
});

test('a Python APP given arguments: one line, exit 2', async (t) => {
  const run = startArbiter(t, ['-w', '1', '--no-reload', 'hello:app', '--debug']);
  assert.equal((await run.waitExit()).code, 2);
  assert.match(run.output, /a Python APP takes no arguments .*'--debug' after hello:app/);
});
