/**
 * Lines that never end: a worker that writes an endless line on its control channel is that
 * worker's protocol error (killed and replaced, memory bounded), and so is a tool's endless
 * line on --stdin-commands for that line alone (real CLI, real worker, real pipes).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rssMiB, startArbiter } from '../support/arbiter-run';
import { get } from '../support/http';

test('a 64 MiB control line without a newline: the worker is killed and replaced, memory stays bounded', async (t) => {
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'app.js']);
  const [worker] = await run.ready(1);
  const port = await run.port();
  const before = rssMiB(run.pid);
  let peak = before;
  // A measurement, not a wait: the arbiter's RSS while the worker writes.
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(run.pid))), 50);
  t.after(() => clearInterval(sampler));
  await get(port, '/control-line?mb=64');
  const exited = await run.waitFor('worker.exited', (e) => e.pid === worker!.pid, 30_000);
  clearInterval(sampler);
  assert.equal(exited.state, 'killed');
  assert.match(exited.reason, /protocol error: a control line over 1 MiB/);
  const killed = await run.waitFor('worker.state', (e) => e.pid === worker!.pid && e.state === 'killed');
  assert.match(killed.reason, /protocol error/);
  await run.waitForOutput(/killed: protocol error: a control line over 1 MiB/);
  assert.equal(run.output.match(/killed: protocol error: a control line over 1 MiB/g)?.length, 1);
  t.diagnostic(`arbiter RSS ${before.toFixed(0)} MiB before, ${peak.toFixed(0)} MiB at most`);
  assert.ok(peak < 200, `arbiter RSS peaked at ${peak.toFixed(0)} MiB`);

  const replacement = await run.waitFor('worker.state', (e) => e.state === 'ready' && e.pid !== worker!.pid);
  const response = await get(port);
  assert.equal(response.status, 200);
  assert.equal(response.pid, replacement.pid);
  run.signal('SIGTERM');
  assert.equal((await run.waitExit()).code, 0);
});

test('--stdin-commands: an 8 MiB line is one line ignored, and the next command is done', async (t) => {
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', '--stdin-commands', 'app.js'], {
    stdin: 'pipe',
  });
  const [worker] = await run.ready(1);
  const stdin = run.child.stdin!;
  const chunk = 'y'.repeat(64 * 1024);
  for (let i = 0; i < 128; i++) stdin.write(chunk);
  stdin.write('\n');
  stdin.write(
    `${JSON.stringify({ type: 'signal-worker', pid: worker!.pid, signal: 'SIGKILL', reason: 'after the long line' })}\n`,
  );
  const exited = await run.waitFor('worker.exited', (e) => e.pid === worker!.pid);
  assert.match(exited.reason, /after the long line/);
  await run.waitForOutput(/stdin command ignored/);
  assert.deepEqual(
    run.output
      .split('\n')
      .filter((line) => line.includes('stdin command ignored'))
      .map((line) => line.replace(/^.*\] /, '')),
    ['stdin command ignored: a line over 1 MiB'],
  );
  run.signal('SIGTERM');
  assert.equal((await run.waitExit()).code, 0);
});
