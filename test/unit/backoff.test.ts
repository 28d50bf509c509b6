import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff, DEFAULT_BACKOFF } from '../../runner/util/backoff';

/** The policy after `n` consecutive failures. */
function afterFailures(n: number, options = { baseMs: 100, maxMs: 1000 }): Backoff {
  let backoff = Backoff.start(options);
  for (let i = 0; i < n; i++) backoff = backoff.fail();
  return backoff;
}

void test('delays: none before the first retry, then base * 2^(n-2) up to the cap', () => {
  const table: [failures: number, delayMs: number][] = [
    [0, 0],
    [1, 0],
    [2, 100],
    [3, 200],
    [4, 400],
    [5, 800],
    [6, 1000],
    [7, 1000],
    [50, 1000],
  ];
  for (const [failures, delayMs] of table) {
    const backoff = afterFailures(failures);
    assert.equal(backoff.failures, failures);
    assert.equal(backoff.delayMs, delayMs, `after ${failures} failure(s)`);
  }
});

void test('the cap holds even when the doubling overflows to Infinity', () => {
  assert.equal(afterFailures(2000).delayMs, 1000);
});

void test('the default policy starts at 100 ms and caps at 10 s', () => {
  assert.deepEqual(DEFAULT_BACKOFF, { baseMs: 100, maxMs: 10_000 });
  const defaults = (n: number) => {
    let backoff = Backoff.start();
    for (let i = 0; i < n; i++) backoff = backoff.fail();
    return backoff.delayMs;
  };
  assert.equal(defaults(1), 0);
  assert.equal(defaults(2), 100);
  assert.equal(defaults(8), 6400);
  assert.equal(defaults(9), 10_000);
  assert.equal(defaults(30), 10_000);
});

void test('succeed() resets the count and the delay, keeping the options', () => {
  const failed = afterFailures(5);
  const reset = failed.succeed();
  assert.equal(reset.failures, 0);
  assert.equal(reset.delayMs, 0);
  // The options survive the reset: the doubling starts again from the same base and cap.
  assert.equal(reset.fail().fail().delayMs, 100);
  assert.equal(afterFailures(20).succeed().fail().fail().fail().delayMs, 200);
});

void test('succeed() with no failures returns the same policy', () => {
  const start = Backoff.start();
  assert.equal(start.succeed(), start);
});

void test('fail() and succeed() return new values and leave the original untouched', () => {
  const start = Backoff.start({ baseMs: 10, maxMs: 100 });
  const once = start.fail();
  const twice = once.fail();
  assert.notEqual(once, start);
  assert.notEqual(twice, once);
  assert.equal(start.failures, 0);
  assert.equal(once.failures, 1);
  assert.equal(twice.failures, 2);
  assert.equal(twice.delayMs, 10);
  const reset = twice.succeed();
  assert.notEqual(reset, twice);
  assert.equal(twice.failures, 2);
  assert.equal(twice.delayMs, 10);
});
