import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FirstResponses, type FirstResponse } from '../../runner/arbiter/generations/first-responses';

/** A FirstResponses whose `live` and `answered` return what each told. */
function responses() {
  let told: FirstResponse[] = [];
  const answers = new FirstResponses((first) => told.push(first));
  const taking =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A): FirstResponse | undefined => {
      told = [];
      fn(...args);
      return told[0];
    };
  return { live: taking(answers.live.bind(answers)), answered: taking(answers.answered.bind(answers)) };
}

const live = (generation: number) => ({
  generation,
  from: 1_000 * generation,
  liveAt: 1_000 * generation + 80,
});

test('the first answer after a generation went live is the reload’s; later ones and other workers’ are not', () => {
  const answers = responses();
  assert.equal(answers.live(live(2)), undefined);
  assert.deepEqual(answers.answered(2, 3, 2_100), { generation: 2, worker: 3, ms: 100, afterLiveMs: 20 });
  assert.equal(answers.answered(2, 4, 2_150), undefined, 'the second worker’s first answer');
  assert.equal(answers.answered(1, 1, 2_160), undefined, 'an old worker draining');
});

test('an answer that came before the reload was told completed is told as the generation goes live', () => {
  const answers = responses();
  assert.equal(answers.answered(3, 5, 3_090), undefined);
  assert.equal(answers.answered(3, 6, 3_095), undefined);
  assert.deepEqual(answers.live(live(3)), { generation: 3, worker: 5, ms: 90, afterLiveMs: 10 });
  assert.equal(answers.answered(3, 6, 3_200), undefined);
});

test('a generation that never went live (superseded, failed) is forgotten once a newer one does', () => {
  const answers = responses();
  answers.answered(4, 7, 4_050);
  assert.equal(answers.live(live(5)), undefined);
  assert.equal(answers.live(live(4)), undefined, 'its early answer is gone');
});

test('no answer before the next reload went live: the older one is never told', () => {
  const answers = responses();
  answers.live(live(2));
  answers.live(live(3));
  assert.equal(answers.answered(2, 3, 3_500), undefined);
  assert.deepEqual(answers.answered(3, 5, 3_500), { generation: 3, worker: 5, ms: 500, afterLiveMs: 420 });
});

test('early answers that arrive out of order: the earliest by the workers’ clocks is the first', () => {
  const answers = responses();
  answers.answered(3, 6, 3_095);
  answers.answered(3, 5, 3_090);
  assert.deepEqual(answers.live(live(3)), { generation: 3, worker: 5, ms: 90, afterLiveMs: 10 });
});
