import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCommand, type CommandTarget } from '../../runner/arbiter/intake/commands';
import { foldReload, PendingReload, SUPERSEDE_LIMIT } from '../../runner/arbiter/intake/reload-requests';
import { interruptStep } from '../../runner/arbiter/intake/signals';

test('the Ctrl+C ladder: graceful, then quick, then kill — each saying what the next does', () => {
  const steps = [1, 2, 3, 4].map(interruptStep);
  assert.deepEqual(
    steps.map((step) => [step.stop, step.reason]),
    [
      ['graceful', 'Ctrl+C'],
      ['quick', 'second Ctrl+C'],
      ['kill', 'third Ctrl+C'],
      ['kill', 'third Ctrl+C'],
    ],
  );
  assert.match(steps[0]!.says, /again for a quick stop/);
  assert.match(steps[1]!.says, /once more to kill/);
  assert.equal(steps[0]!.level, 'info');
  assert.equal(steps[2]!.level, 'warn');
});

test('reload requests fold: files of both once, the config re-read if either asked, both triggers named', () => {
  assert.deepEqual(foldReload(undefined, { trigger: 'SIGHUP', rereadConfig: true }), {
    trigger: 'SIGHUP',
    rereadConfig: true,
  });
  assert.deepEqual(
    foldReload(
      { trigger: 'file change', files: ['/a', '/b'] },
      { trigger: 'file change', files: ['/b', '/c'] },
    ),
    { trigger: 'file change', files: ['/a', '/b', '/c'], rereadConfig: false },
  );
  assert.deepEqual(
    foldReload({ trigger: 'file change', files: ['/a'] }, { trigger: 'SIGHUP', rereadConfig: true }),
    {
      trigger: 'file change, SIGHUP',
      files: ['/a'],
      rereadConfig: true,
    },
  );
});

test('one follow-up cycle waits: what is asked meanwhile folds into it, a retry goes first, each is taken once', () => {
  const pending = new PendingReload();
  assert.equal(pending.take(), undefined);
  pending.add({ trigger: 'file change', files: ['/b'] });
  pending.add({ trigger: 'file change', files: ['/c'] });
  pending.retry({ trigger: 'file change', files: ['/a'] });
  assert.deepEqual(pending.take(), {
    trigger: 'file change',
    files: ['/a', '/b', '/c'],
    rereadConfig: false,
  });
  assert.equal(pending.take(), undefined, 'handed out once');
  pending.retry({ trigger: 'SIGHUP', rereadConfig: true });
  assert.deepEqual(pending.take(), { trigger: 'SIGHUP', rereadConfig: true });
});

test('what waits supersedes the booting generation, never more than SUPERSEDE_LIMIT in a row', () => {
  const pending = new PendingReload();
  assert.equal(pending.supersedes, false, 'nothing waits');
  for (let i = 0; i < SUPERSEDE_LIMIT; i++) {
    pending.add({ trigger: 'file change', files: ['/a'] });
    assert.equal(pending.supersedes, true);
    pending.ended(true);
    pending.take();
  }
  pending.add({ trigger: 'file change', files: ['/a'] });
  assert.equal(pending.supersedes, false, 'the next one boots to the end');
  pending.ended(false);
  assert.equal(pending.supersedes, true, 'once one ended otherwise, the count starts again');
});

/** A command target that records each verb it is asked for. */
function recorder(pids: number[]) {
  const calls: unknown[][] = [];
  const target: CommandTarget<number> = {
    workerWithPid: (pid) => (pids.includes(pid) ? pid : undefined),
    inspect: (worker) => calls.push(['inspect', worker]),
    setPaused: (worker, paused) => calls.push(['setPaused', worker, paused]),
    killGeneration: (generation, reason) => calls.push(['killGeneration', generation, reason]),
    killWorker: (worker, reason) => calls.push(['killWorker', worker, reason]),
    stopWorker: (worker, mode, reason) => calls.push(['stopWorker', worker, mode, reason]),
    signalWorker: (worker, signal, reason) => calls.push(['signalWorker', worker, signal, reason]),
    warn: (message) => calls.push(['warn', message]),
  };
  return { target, calls };
}

test('each tool command becomes one verb; a pid that is no worker of this arbiter is refused in one line', () => {
  const { target, calls } = recorder([41]);
  const why = { reason: 'editor' };
  runCommand({ type: 'inspect' }, target);
  runCommand({ type: 'inspect', pid: 41 }, target);
  runCommand({ type: 'inspect', pid: 99 }, target);
  runCommand({ type: 'debugger', pid: 41, paused: true }, target);
  runCommand({ type: 'kill-generation', generation: 3 }, target);
  for (const signal of ['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR2', 'SIGABRT'] as const)
    runCommand({ type: 'signal-worker', pid: 41, signal, ...why }, target);
  runCommand({ type: 'signal-worker', pid: 7, signal: 'SIGKILL' }, target);
  assert.deepEqual(calls, [
    ['inspect', undefined],
    ['inspect', 41],
    ['setPaused', 41, true],
    ['killGeneration', 3, 'asked by the tool that started the arbiter'],
    ['killWorker', 41, 'editor'],
    ['stopWorker', 41, 'graceful', 'editor'],
    ['stopWorker', 41, 'quick', 'editor'],
    ['stopWorker', 41, 'quick', 'editor'],
    ['signalWorker', 41, 'SIGHUP', 'editor'],
    ['signalWorker', 41, 'SIGUSR2', 'editor'],
    ['signalWorker', 41, 'SIGABRT', 'editor'],
    ['warn', 'SIGKILL for pid 7 ignored: no worker of this arbiter has it'],
  ]);
});
