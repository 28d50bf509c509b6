/**
 * What the arbiter prints on its terminal: names and messages from outside are escaped, the
 * app's own output passes unchanged, a terminal that stops reading costs bounded memory and a
 * terminal that goes away costs nothing else (real CLI, real pipes, real files).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES, ROOT, rssMiB, startArbiter } from '../support/arbiter-run';
import { get } from '../support/http';

const ESC = '\x1b';

test('file names and worker messages with terminal escapes are printed escaped; the app output is its own', async (t) => {
  const project = mkdtempSync(join(tmpdir(), 'arbiter-escape-'));
  t.after(() => rmSync(project, { recursive: true, force: true }));
  copyFileSync(join(FIXTURES, 'app.js'), join(project, 'app.js'));
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', 'app.js'], {
    cwd: project,
    env: { FIXTURE_PRINT: `app says ${ESC}[1mbold${ESC}[0m` },
  });
  await run.ready(1);
  await run.waitFor('watcher.ready');
  writeFileSync(join(project, `evil${ESC}]0;pwned\x07.js`), '');
  writeFileSync(join(project, `clear${ESC}[2J.txt`), '');
  await run.waitForOutput(/changed: .*evil\\x1b\]0;pwned\\x07\.js/);
  await run.waitForOutput(/changed: .*clear\\x1b\[2J\.txt/);
  const port = await run.port();
  await get(port, `/control-messages?n=1&text=${encodeURIComponent(`no${ESC}[2Jinspector\x9b6n`)}`);
  await run.waitForOutput(/cannot open its inspector: no\\x1b\[2Jinspector\\x9b6n/);

  const appLine = run.output.split('\n').find((line) => line.includes('app says'));
  assert.ok(appLine?.endsWith(`app says ${ESC}[1mbold${ESC}[0m`), `the app's line unchanged: ${appLine}`);
  const others = run.output.split('\n').filter((line) => !line.includes('app says'));
  assert.deepEqual(
    // eslint-disable-next-line no-control-regex -- control characters are what it looks for
    others.filter((line) => /[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(line)),
    [],
    'no control character reaches the terminal from a name or a message',
  );
});

test('the terminal goes away (EPIPE): the arbiter serves, reloads and stops with arbiter.exited', async (t) => {
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'app.js']);
  await run.ready(1);
  const port = await run.port();
  // Like `arbiter app.js 2>&1 | head -2`: the reader of stdout and stderr is gone.
  run.child.stdout!.destroy();
  run.child.stderr!.destroy();
  run.signal('SIGHUP'); // log lines from now on hit EPIPE
  await run.waitFor('reload', (e) => e.phase === 'completed');
  assert.equal((await get(port)).status, 200);
  run.signal('SIGTERM');
  const { code } = await run.waitExit();
  assert.equal(code, 0);
  assert.equal(run.events.at(-1)?.type, 'arbiter.exited');
});

test('the terminal hangs up (EIO on a real pty): the arbiter serves, reloads and stops with arbiter.exited', async (t) => {
  // The arbiter's stdout and stderr are a pty, whose master is closed once it serves.
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'app.js'], {
    wrapper: ['python3', join(ROOT, 'test/support/pty-terminal.py')],
  });
  const { pid } = await run.waitFor('arbiter.started');
  await run.ready(1);
  await run.waitForOutput(/serving http/);
  process.kill(pid, 'SIGHUP'); // its log lines now fail with EIO
  await run.waitFor('reload', (e) => e.phase === 'completed');
  assert.equal((await get(await run.port())).status, 200);
  process.kill(pid, 'SIGTERM');
  const exited = await run.waitFor('arbiter.exited');
  assert.equal(exited.code, 0);
  // Node itself aborts as it exits if a terminal it started on hung up; the arbiter spares it that.
  assert.equal((await run.waitExit()).code, 0);
});

test('a worker floods stdout while the terminal does not read: bounded memory, serving, one line of what was dropped', async (t) => {
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', 'app.js']);
  await run.ready(2);
  const port = await run.port();
  const before = rssMiB(run.pid);
  run.child.stderr!.pause(); // like `arbiter app.js 2>&1 | sleep 30`
  let peak = before;
  let flooding = true;
  const flood = get(port, '/flood-stdout?mb=300', { timeoutMs: 180_000 }).finally(() => (flooding = false));
  // A measurement, not a wait: the arbiter's RSS while the flood runs.
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(run.pid))), 50);
  t.after(() => clearInterval(sampler));
  let served = 0;
  while (flooding) {
    assert.equal((await get(port, '/', { timeoutMs: 5000 })).status, 200);
    served++;
  }
  assert.equal((await flood).body, 'wrote 300 MiB');
  clearInterval(sampler);
  t.diagnostic(
    `arbiter RSS ${before.toFixed(0)} MiB before, ${peak.toFixed(0)} MiB at most; ${served} requests served meanwhile`,
  );
  assert.ok(peak < 200, `arbiter RSS peaked at ${peak.toFixed(0)} MiB`);
  assert.ok(served > 0);

  run.child.stderr!.resume();
  await run.waitForOutput(/(\d+) lines of worker output dropped while the terminal did not read/, 60_000);
  const dropped = /(\d+) lines of worker output dropped/.exec(run.output)!;
  assert.ok(Number(dropped[1]) > 0 && Number(dropped[1]) <= 300 * 1024);
  assert.equal(run.output.match(/lines of worker output dropped/g)?.length, 1);
  run.signal('SIGTERM');
  assert.equal((await run.waitExit()).code, 0);
});
