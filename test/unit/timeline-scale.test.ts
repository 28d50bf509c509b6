import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BREAK_KEEP_MS,
  BREAK_SHARE,
  quietStretches,
  shownMs,
  timeScale,
} from '../../extension/views/timeline-scale';

test('quiet stretches: only gaps longer than the break minimum, keeping a margin either side', () => {
  assert.deepEqual(quietStretches([0, 100, 1_500, 2_000], 0, 2_000), [], 'no gap over 2.6 s');
  assert.deepEqual(quietStretches([0, 100, 60_100, 60_400], 0, 60_400), [
    { from: 100 + BREAK_KEEP_MS, to: 60_100 - BREAK_KEEP_MS },
  ]);
  assert.deepEqual(
    quietStretches([5, 0, 5, 30_000, -10, 99_999], 0, 30_000),
    [{ from: 5 + BREAK_KEEP_MS, to: 30_000 - BREAK_KEEP_MS }],
    'unsorted, repeated, outside the window',
  );
});

test('the scale: the edges at 0 and 1, a break a fixed share, the rest in proportion, past the edges clamped', () => {
  const breaks = [{ from: 400, to: 59_800 }];
  const x = timeScale(0, 61_000, breaks);
  assert.equal(x(0), 0);
  assert.equal(x(-5_000), 0);
  assert.ok(Math.abs(x(61_000) - 1) < 1e-9);
  assert.equal(x(90_000), x(61_000));
  assert.ok(Math.abs(x(59_800) - x(400) - BREAK_SHARE) < 1e-9, 'the break takes its share');
  // 1,600 ms shown at full scale share the other 96 %: 400 ms of them before the break.
  assert.equal(shownMs(0, 61_000, breaks), 1_600);
  assert.ok(Math.abs(x(400) - 0.96 / 4) < 1e-9);
  for (let t = 0, last = -1; t <= 61_000; t += 250) {
    assert.ok(x(t) >= last, `monotonic at ${t}`);
    last = x(t);
  }
});

test('no breaks: a plain proportional scale', () => {
  const x = timeScale(1_000, 3_000, []);
  assert.equal(x(2_000), 0.5);
});
