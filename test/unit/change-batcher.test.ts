import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChangeBatcher } from '../../runner/watch/change-batcher';

const OPTIONS = { settleMs: 4, quietMs: 20, burstQuietMs: 60, maxWaitMs: 1000 };

/** Fires the quiet timer and the turn after it (the batch closes once pending I/O was seen). */
function quietFor(t: { mock: { timers: { tick(ms: number): void } } }, ms: number): void {
  t.mock.timers.tick(ms);
  t.mock.timers.tick(0);
}

test('a single save of a file that does not look whole closes after the quiet period', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setImmediate'] });
  const batches: string[][] = [];
  const batcher = new ChangeBatcher((files) => batches.push(files), OPTIONS);
  batcher.add('app.js');
  batcher.add('app.js');
  quietFor(t, 19);
  assert.equal(batches.length, 0);
  quietFor(t, 1);
  assert.deepEqual(batches, [['app.js']]);
});

test('a single save of a file that is there and not empty closes once it settled, a few ms after its last event', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setImmediate'] });
  const batches: string[][] = [];
  const whole = new Set(['app.js']);
  const batcher = new ChangeBatcher(
    (files) => batches.push(files),
    OPTIONS,
    (file) => whole.has(file),
  );
  // An in-place save: the truncate's event, then the write's and the close's, a moment apart.
  batcher.add('app.js');
  t.mock.timers.tick(1);
  batcher.touch();
  t.mock.timers.tick(1);
  batcher.touch();
  quietFor(t, 3);
  assert.equal(batches.length, 0, 'settling counts from the last event');
  quietFor(t, 1);
  assert.deepEqual(batches, [['app.js']]);
});

test('editor save patterns: which wait the short settle and which the quiet period', (t) => {
  // [pattern, events as [ms after the previous one, file], the files that look whole at the
  // settle point, when the batch closes (ms after its first event), what it holds]
  const cases: [string, [number, string][], string[], number, string[]][] = [
    [
      'an in-place write (truncate, write, close)',
      [
        [0, 'a.js'],
        [0, 'a.js'],
        [1, 'a.js'],
      ],
      ['a.js'],
      5,
      ['a.js'],
    ],
    // vim with writebackup: a.js renamed to a.js~ (ignored), a new a.js written, fsync'd.
    [
      'vim: renamed away, written anew',
      [
        [0, 'a.js'],
        [0, 'a.js'],
        [2, 'a.js'],
      ],
      ['a.js'],
      6,
      ['a.js'],
    ],
    // Still gone at the settle point (the editor was descheduled between rename and create).
    [
      'gone at the settle point: the new copy is waited for',
      [
        [0, 'a.js'],
        [10, 'a.js'],
      ],
      [],
      30,
      ['a.js'],
    ],
    // A temp file (not ignored) renamed over the file: two names, a burst.
    [
      'write-temp-then-rename: one batch',
      [
        [0, 'a.js.tmp'],
        [1, 'a.js'],
      ],
      ['a.js'],
      61,
      ['a.js.tmp', 'a.js'],
    ],
  ];
  for (const [name, events, whole, closesAt, files] of cases) {
    t.mock.timers.reset();
    t.mock.timers.enable({ apis: ['setTimeout', 'setImmediate'] });
    const batches: string[][] = [];
    const batcher = new ChangeBatcher(
      (batch) => batches.push(batch),
      OPTIONS,
      (file) => whole.includes(file),
    );
    let at = 0;
    for (const [after, file] of events) {
      t.mock.timers.tick(after);
      at += after;
      if (batcher.has(file)) batcher.touch();
      else batcher.add(file);
    }
    for (; at < closesAt - 1; at++) quietFor(t, 1);
    assert.equal(batches.length, 0, `${name}: still open at ${at} ms`);
    quietFor(t, 1);
    assert.deepEqual(batches, [files], `${name}: closed at ${closesAt} ms`);
    batcher.dispose();
  }
});

test('a burst becomes one batch once the tree is quiet for the longer burst period', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setImmediate'] });
  const batches: string[][] = [];
  const batcher = new ChangeBatcher((files) => batches.push(files), OPTIONS);
  for (let i = 0; i < 500; i++) {
    // A tool pausing between writes for longer than a single save's quiet period.
    if (i > 0) t.mock.timers.tick(i % 100 === 0 ? 50 : 1);
    batcher.add(`f${i % 200}.js`);
  }
  assert.equal(batches.length, 0);
  quietFor(t, 59);
  assert.equal(batches.length, 0);
  quietFor(t, 1);
  assert.equal(batches.length, 1);
  assert.equal(batches[0]!.length, 200, 'each file once');
});

test('activity on a file already in the batch keeps it open', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setImmediate'] });
  const batches: string[][] = [];
  const batcher = new ChangeBatcher((files) => batches.push(files), OPTIONS);
  batcher.touch(); // nothing open: nothing to extend
  quietFor(t, 100);
  assert.equal(batches.length, 0);
  batcher.add('app.js');
  for (let i = 0; i < 5; i++) {
    quietFor(t, 15);
    batcher.touch();
  }
  assert.equal(batches.length, 0);
  quietFor(t, 20);
  assert.deepEqual(batches, [['app.js']]);
});

test('an event handled after the quiet timer fired, before the next loop turn, still joins the batch', async (t) => {
  // Only setTimeout is mocked: the close the quiet timer schedules is a real setImmediate, which
  // cannot run before this test yields — as I/O queued while the arbiter was busy comes first.
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
  const batches: string[][] = [];
  const batcher = new ChangeBatcher((files) => batches.push(files), OPTIONS);
  batcher.add('a.js');
  t.mock.timers.tick(20); // the quiet timer fired
  assert.equal(batches.length, 0, 'the close waits for the next turn');
  batcher.add('b.js'); // handled before that turn
  await nextTurn();
  assert.equal(batches.length, 0, 'and was called off');
  t.mock.timers.tick(60);
  await nextTurn();
  assert.deepEqual(batches, [['a.js', 'b.js']]);
});

test('a writer that never stops still gets a batch at the longest wait', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setImmediate'] });
  const batches: string[][] = [];
  const batcher = new ChangeBatcher((files) => batches.push(files), { ...OPTIONS, maxWaitMs: 100 });
  for (let i = 0; i < 25; i++) {
    batcher.add('busy.log');
    t.mock.timers.tick(10);
  }
  assert.equal(batches.length, 2, '250 ms of writes every 10 ms: two 100 ms batches so far');
  batcher.dispose();
  quietFor(t, 1000);
  assert.equal(batches.length, 2, 'nothing after dispose');
});
