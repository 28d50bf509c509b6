import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import {
  ABORT_GRACE_MS,
  STOP_ANSWER_MS,
  WorkerDeadlines,
  type DeadlineSettings,
  type Expiry,
} from '../../runner/arbiter/workers/worker-deadlines';

const SETTINGS: DeadlineSettings = { bootTimeout: 5, timeout: 2, gracefulTimeout: 30, quickTimeout: 3 };
const START = 1_000_000;

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: START }));
afterEach(() => mock.timers.reset());

/** Deadlines for one worker, and what ran out, in order, with when (ms after START). */
function deadlines(settings: DeadlineSettings = SETTINGS) {
  const expired: (Expiry & { after: number })[] = [];
  const d = new WorkerDeadlines(
    () => settings,
    (expiry) => expired.push({ ...expiry, after: Date.now() - START }),
  );
  return { d, expired };
}

const tick = (ms: number) => mock.timers.tick(ms);

test('the boot window runs from the spawn, and closes once the worker is ready', () => {
  const late = deadlines();
  tick(4_999);
  assert.deepEqual(late.expired, []);
  tick(1);
  assert.deepEqual(late.expired, [{ kind: 'boot', after: 5_000 }]);
  mock.timers.reset();
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: START });
  const ready = deadlines();
  tick(4_000);
  ready.d.ready();
  tick(1_500);
  assert.deepEqual(ready.expired, [], 'no boot timeout once ready');
});

test('each beat starts the heartbeat window again; a missed one runs out', () => {
  const { d, expired } = deadlines();
  d.ready();
  for (let i = 0; i < 5; i++) {
    tick(1_500);
    d.beat();
  }
  assert.deepEqual(expired, []);
  tick(2_000);
  assert.deepEqual(expired, [{ kind: 'heartbeat', after: 9_500 }]);
});

test('a timeout of 0 means no heartbeat is awaited', () => {
  const { d, expired } = deadlines({ ...SETTINGS, timeout: 0 });
  d.ready();
  tick(60_000);
  assert.deepEqual(expired, []);
});

test('a stop is answered or signalled, and killed at its deadline', () => {
  const { d, expired } = deadlines();
  d.ready();
  tick(1_000);
  assert.equal(d.stopping('graceful', 'a test'), START + 1_000 + 30_000);
  tick(STOP_ANSWER_MS);
  assert.deepEqual(expired, [
    { kind: 'stop-answer', mode: 'graceful', reason: 'a test', after: 1_000 + STOP_ANSWER_MS },
  ]);
  tick(30_000 - STOP_ANSWER_MS);
  assert.deepEqual(expired.at(-1), { kind: 'stop', mode: 'graceful', after: 31_000 });
  assert.equal(expired.length, 2, 'no heartbeat timeout while stopping');
});

test('an answered stop sends no signal', () => {
  const { d, expired } = deadlines();
  d.ready();
  d.stopping('graceful', 'a test');
  d.answered('graceful');
  tick(29_999);
  assert.deepEqual(expired, []);
});

test('graceful can become quick, which only brings the deadline closer; nothing goes back', () => {
  const { d, expired } = deadlines();
  d.ready();
  d.stopping('graceful', 'a test');
  d.answered('graceful');
  tick(1_000);
  assert.equal(d.stopping('quick', 'a test'), START + 1_000 + 3_000);
  assert.equal(d.stopMode, 'quick');
  assert.equal(
    d.stopping('graceful', 'a test'),
    undefined,
    'a graceful stop after a quick one changes nothing',
  );
  assert.equal(d.stopping('quick', 'a test'), undefined, 'nor does the same one again');
  d.answered('quick');
  tick(3_000);
  assert.deepEqual(expired, [{ kind: 'stop', mode: 'quick', after: 4_000 }]);

  // Quick late in a long graceful stop keeps the graceful deadline when that is sooner.
  const late = deadlines();
  late.d.stopping('graceful', 'a test');
  tick(28_000);
  assert.equal(late.d.stopping('quick', 'a test'), START + 4_000 + 30_000);
});

test('while paused nothing runs out; on resume a stop gets what was left of its time', () => {
  const { d, expired } = deadlines();
  d.ready();
  d.stopping('graceful', 'a test');
  d.answered('graceful');
  tick(10_000);
  d.pause();
  tick(600_000);
  assert.deepEqual(expired, [], 'paused for ten minutes: nothing ran out');
  assert.equal(d.resume(), START + 30_000 + 600_000, 'the deadline moved by the pause');
  tick(19_999);
  assert.deepEqual(expired, []);
  tick(1);
  assert.deepEqual(expired, [{ kind: 'stop', mode: 'graceful', after: 630_000 }]);
});

test('a stop asked for while paused is not signalled: the worker reads it once resumed', () => {
  const { d, expired } = deadlines();
  d.ready();
  d.pause();
  d.stopping('graceful', 'a test');
  tick(60_000);
  assert.deepEqual(expired, []);
  d.resume();
  tick(29_999);
  assert.deepEqual(expired, [], 'no stop-answer, and the deadline moved by the pause');
  tick(1);
  assert.deepEqual(expired, [{ kind: 'stop', mode: 'graceful', after: 90_000 }]);
});

test('resuming starts the boot and heartbeat windows afresh', () => {
  const booting = deadlines();
  tick(4_000);
  booting.d.pause();
  tick(60_000);
  assert.equal(booting.d.resume(), undefined);
  tick(4_999);
  assert.deepEqual(booting.expired, []);
  tick(1);
  assert.deepEqual(booting.expired, [{ kind: 'boot', after: 69_000 }]);
});

test('after an abort only its grace is left, and after the exit nothing', () => {
  const { d, expired } = deadlines();
  d.ready();
  d.aborted();
  assert.equal(d.stopping('graceful', 'a test'), undefined, 'an aborted worker is not stopped again');
  tick(ABORT_GRACE_MS);
  assert.deepEqual(expired, [{ kind: 'abort', after: ABORT_GRACE_MS }]);

  const gone = deadlines();
  gone.d.ready();
  gone.d.stopping('quick', 'a test');
  gone.d.over();
  tick(120_000);
  assert.deepEqual(gone.expired, []);
});

test('a worker whose control channel closed is waited for by no heartbeat, even after a pause', () => {
  const { d, expired } = deadlines();
  d.ready();
  tick(1_000);
  d.silenced();
  tick(10_000);
  d.pause();
  d.resume();
  tick(10_000);
  assert.equal(expired.length, 0, 'no heartbeat can come');
  d.stopping('graceful', 'a test');
  tick(30_000);
  assert.deepEqual(
    expired.map((e) => e.kind),
    ['stop-answer', 'stop'],
    'its stop is still bounded',
  );
});
