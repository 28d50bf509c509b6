import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { Logger } from '../../runner/log/logger';
import type { WorkerState } from '../../runner/protocol/events';
import { Staffing } from '../../runner/arbiter/workers/staffing';

type Staff = {
  id: number;
  state: WorkerState;
  retiring: string | undefined;
  spawnedAt: number;
  readyAt: number | undefined;
};

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
afterEach(() => mock.timers.reset());

/** A staffing of `wanted` over a worker list the test edits; what it spawned and retired, in order. */
function staffing(wanted: number, { replacing = true, spawnFails = false } = {}) {
  const workers: Staff[] = [];
  const done: string[] = [];
  let next = 1;
  const warnings: string[] = [];
  const log = new Logger();
  log.warn = (message: string) => void warnings.push(message);
  const staff = new Staffing<Staff>(wanted, {
    log,
    replacing: () => replacing,
    current: () => workers,
    spawn: () => {
      if (spawnFails) return false;
      const worker: Staff = {
        id: next++,
        state: 'booting',
        retiring: undefined,
        spawnedAt: Date.now(),
        readyAt: undefined,
      };
      workers.push(worker);
      done.push(`spawn ${worker.id}`);
      return true;
    },
    retire: (worker, reason) => {
      workers.splice(workers.indexOf(worker), 1);
      done.push(`retire ${worker.id}: ${reason}`);
    },
  });
  return { staff, workers, done, warnings };
}

test('the lost are replaced at once while nothing failed; the extra retire, oldest first', () => {
  const { staff, workers, done } = staffing(2);
  staff.manage();
  assert.deepEqual(done, ['spawn 1', 'spawn 2']);
  staff.set(1);
  mock.timers.tick(10);
  staff.manage();
  assert.deepEqual(done.slice(2), ['retire 1: fewer workers wanted']);
  assert.deepEqual(
    workers.map((w) => w.id),
    [2],
  );
});

test('after failures the next start waits, doubling, said in one line; a booted generation forgives them', () => {
  const { staff, done, workers, warnings } = staffing(1);
  staff.failed();
  staff.manage();
  assert.deepEqual(done, ['spawn 1'], 'the first failure is retried at once');
  workers.length = 0;
  staff.failed();
  staff.manage();
  staff.manage(); // a second call while the timer runs starts nothing more
  assert.deepEqual(done, ['spawn 1']);
  assert.match(warnings[0]!, /starting a worker again in 100 ms \(2 failures in a row\)/);
  mock.timers.tick(100);
  assert.deepEqual(done, ['spawn 1', 'spawn 2']);
  workers.length = 0;
  staff.succeeded();
  staff.manage();
  assert.deepEqual(done, ['spawn 1', 'spawn 2', 'spawn 3']);
});

test('a worker that served 10 s proves the code: its loss starts the backoff afresh', () => {
  const { staff, done, workers } = staffing(1);
  staff.failed();
  staff.failed();
  staff.lost({ id: 9, state: 'ready', retiring: undefined, spawnedAt: 0, readyAt: Date.now() - 10_000 });
  staff.manage();
  assert.deepEqual(done, ['spawn 1'], 'immediate: one failure in a row');
  workers.length = 0;
  staff.lost({ id: 1, state: 'ready', retiring: undefined, spawnedAt: 0, readyAt: Date.now() - 50 });
  staff.manage();
  assert.deepEqual(done, ['spawn 1'], 'a quick crash waits');
});

test('a retiring worker leaves once enough replacements are ready', () => {
  const { staff, workers, done } = staffing(1);
  staff.manage();
  workers[0]!.state = 'ready';
  workers[0]!.retiring = 'served 100 requests (max-requests)';
  staff.manage();
  assert.deepEqual(done, ['spawn 1', 'spawn 2'], 'its replacement boots');
  staff.retireReplaced();
  assert.equal(done.length, 2, 'not before the replacement is ready');
  workers[1]!.state = 'ready';
  staff.retireReplaced();
  assert.deepEqual(done.at(-1), 'retire 1: served 100 requests (max-requests) and its replacement is ready');
});

test('nothing starts while replacing is off, after a cancel, or when no process can start', () => {
  const off = staffing(2, { replacing: false });
  off.staff.manage();
  assert.deepEqual(off.done, []);
  const cancelled = staffing(1);
  cancelled.staff.failed();
  cancelled.staff.failed();
  cancelled.staff.manage();
  cancelled.staff.cancel();
  mock.timers.tick(10_000);
  assert.deepEqual(cancelled.done, []);
  const failing = staffing(3, { spawnFails: true });
  failing.staff.manage();
  assert.deepEqual(failing.done, []);
});
