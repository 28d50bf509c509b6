import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChangeBatcher } from '../../runner/watch/change-batcher';

test('a burst becomes one batch once the tree is quiet', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const batches: string[][] = [];
  const batcher = new ChangeBatcher((files) => batches.push(files), { quietMs: 30, maxWaitMs: 1000 });
  for (let i = 0; i < 500; i++) {
    batcher.add(`f${i % 200}.js`);
    t.mock.timers.tick(1);
  }
  assert.equal(batches.length, 0);
  t.mock.timers.tick(29);
  assert.equal(batches.length, 1);
  assert.equal(batches[0]!.length, 200, 'each file once');
});

test('a writer that never stops still gets a batch at the longest wait', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const batches: string[][] = [];
  const batcher = new ChangeBatcher((files) => batches.push(files), { quietMs: 30, maxWaitMs: 100 });
  for (let i = 0; i < 25; i++) {
    batcher.add('busy.log');
    t.mock.timers.tick(10);
  }
  assert.equal(batches.length, 2, '250 ms of writes every 10 ms: two 100 ms batches so far');
  batcher.dispose();
  t.mock.timers.tick(1000);
  assert.equal(batches.length, 2, 'nothing after dispose');
});
