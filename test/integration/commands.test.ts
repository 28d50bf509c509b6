/**
 * --stdin-commands: what the editor asks of one worker or one generation goes through the
 * arbiter, which does it and says who asked (tests of the real CLI, real processes, real pipe).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ArbiterCommand } from '../../runner/protocol/commands';
import { isAlive, startArbiter, type ArbiterRun } from '../support/arbiter-run';

const ARGS = [
  '-w',
  '2',
  '-b',
  '127.0.0.1:0',
  '--no-reload',
  '--stdin-commands',
  '--stop-on-stdin-close',
  'app.js',
];

function send(run: ArbiterRun, command: ArbiterCommand | string): void {
  run.child.stdin!.write(`${typeof command === 'string' ? command : JSON.stringify(command)}\n`);
}

test('SIGKILL for a worker: killed, with the reason given, and replaced', async (t) => {
  const run = startArbiter(t, ARGS, { stdin: 'pipe' });
  const [victim] = await run.ready(2);
  send(run, { type: 'signal-worker', pid: victim!.pid, signal: 'SIGKILL', reason: 'Kill Worker (editor)' });
  const exited = await run.waitFor('worker.exited', (e) => e.pid === victim!.pid);
  assert.equal(exited.state, 'killed');
  assert.equal(exited.reason, 'killed on request: Kill Worker (editor) (killed by SIGKILL)');
  // Frozen first, while what it held is read, then killed: both for the reason given.
  const signals = run.all('signal').filter((e) => e.pid === victim!.pid);
  assert.deepEqual(
    signals.map((e) => [e.signal, e.reason]),
    [
      ['SIGSTOP', 'Kill Worker (editor): frozen while what it held is read'],
      ['SIGKILL', 'Kill Worker (editor)'],
    ],
  );
  await run.waitFor('worker.state', (e) => e.state === 'ready' && e.pid !== victim!.pid && e.id > 2);
  run.child.stdin!.end();
  assert.equal((await run.waitExit()).code, 0);
});

test('SIGTERM for a worker: a graceful stop of that worker alone, its replacement boots meanwhile', async (t) => {
  const run = startArbiter(t, ARGS, { stdin: 'pipe', env: { FIXTURE_ON_SIGTERM: 'async-cleanup' } });
  const [first, second] = await run.ready(2);
  send(run, { type: 'signal-worker', pid: first!.pid, signal: 'SIGTERM', reason: 'Send Signal (editor)' });
  const draining = await run.waitFor('worker.state', (e) => e.pid === first!.pid && e.state === 'draining');
  assert.match(draining.reason, /Send Signal \(editor\)/);
  const exited = await run.waitFor('worker.exited', (e) => e.pid === first!.pid);
  assert.equal(exited.state, 'exited');
  const hooks = run.all('hook').filter((e) => e.pid === first!.pid && e.phase === 'end');
  assert.deepEqual(
    hooks.map((e) => [e.name, e.outcome]),
    // The handler awaits server.close(resolve): the app's own close callback, a run of its own.
    [
      ['server.close callback', 'ok'],
      ['SIGTERM handler closeEverything', 'ok'],
    ],
  );
  await run.waitFor('worker.state', (e) => e.state === 'ready' && e.id === 3);
  assert.ok(isAlive(second!.pid), 'the other worker was left alone');
  run.child.stdin!.end();
  assert.equal((await run.waitExit()).code, 0);
});

test('kill-generation during a drain: its workers are killed now, their hooks never finish', async (t) => {
  // Its handlers never finish: without the command the drain would take the whole graceful timeout.
  const run = startArbiter(t, ['--graceful-timeout', '2', ...ARGS], {
    stdin: 'pipe',
    env: { FIXTURE_ON_SIGTERM: 'hang' },
  });
  await run.ready(2);
  run.signal('SIGHUP');
  await run.ready(2, 2);
  // Both old workers are in their (never-ending) SIGTERM handlers.
  for (const id of [1, 2])
    await run.waitFor('hook', (e) => e.id === id && e.generation === 1 && e.phase === 'start');
  send(run, { type: 'kill-generation', generation: 1, reason: 'Kill Now (editor)' });
  for (const id of [1, 2]) {
    const exited = await run.waitFor('worker.exited', (e) => e.id === id);
    assert.equal(exited.state, 'killed');
  }
  const hookEnds = run.all('hook').filter((e) => e.generation === 1 && e.phase === 'end');
  assert.deepEqual(
    hookEnds.map((e) => e.outcome),
    ['killed', 'killed'],
  );
  assert.deepEqual(
    run.all('worker.exited').filter((e) => e.generation === 2),
    [],
    'the serving generation is untouched',
  );
  run.child.stdin!.end();
  assert.equal((await run.waitExit()).code, 0);
});

test('bad commands are reported and skipped; the server keeps serving', async (t) => {
  const run = startArbiter(t, ARGS, { stdin: 'pipe' });
  const workers = await run.ready(2);
  send(run, 'not json');
  send(run, { type: 'signal-worker', pid: 1, signal: 'SIGKILL' });
  send(run, '{"type":"signal-worker","pid":12,"signal":"SIGSTOP"}');
  send(run, '{"type":"reboot"}');
  await run.waitForOutput(/stdin command ignored: not JSON/);
  await run.waitForOutput(/SIGKILL for pid 1 ignored: no worker of this arbiter has it/);
  await run.waitForOutput(/stdin command ignored: .*SIGSTOP/);
  await run.waitForOutput(/stdin command ignored: .*reboot/);
  for (const worker of workers) assert.ok(isAlive(worker.pid));
  run.child.stdin!.end();
  assert.equal((await run.waitExit()).code, 0);
});
