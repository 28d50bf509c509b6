import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SwapTally, type Swap } from '../../runner/arbiter/generations/swap-tally';
import type { ArbiterEvent } from '../../runner/protocol/events';

const ref = (id: number, generation: number) => ({ v: 1 as const, id, pid: 1000 + id, generation });
const spawned = (ts: number, id: number, generation: number): ArbiterEvent => ({
  ...ref(id, generation),
  ts,
  type: 'worker.spawned',
});
const stats = (ts: number, id: number, generation: number, served: number, inflight = 0): ArbiterEvent => ({
  ...ref(id, generation),
  ts,
  type: 'worker.stats',
  served,
  inflight,
});
const live = (ts: number, generation: number): ArbiterEvent => ({
  v: 1,
  ts,
  type: 'reload',
  phase: 'completed',
  generation,
  trigger: 'file change',
});
const exited = (ts: number, id: number, generation: number): ArbiterEvent => ({
  ...ref(id, generation),
  ts,
  type: 'worker.exited',
  code: 0,
  signal: null,
  state: 'exited',
  reason: 'exited',
});
const cut = (ts: number, id: number, generation: number, total: number): ArbiterEvent => ({
  ...ref(id, generation),
  ts,
  type: 'worker.requests',
  at: 'cut',
  requests: [],
  total,
});

function tally(events: ArbiterEvent[]): Swap[] {
  const swaps: Swap[] = [];
  const tally = new SwapTally((swap) => swaps.push(swap));
  for (const event of events) tally.observe(event);
  return swaps;
}

test('a swap: what the old workers finished from live to their last exit, what the new took meanwhile', () => {
  const swaps = tally([
    spawned(0, 1, 1),
    spawned(0, 2, 1),
    stats(10, 1, 1, 100, 2), // 100 finished, 2 in flight at the swap
    stats(10, 2, 1, 50),
    spawned(20, 3, 2),
    live(30, 2),
    stats(40, 1, 1, 103), // the old ones finish what they had, and one more a kept-alive connection brought
    stats(40, 3, 2, 7),
    exited(50, 1, 1),
    stats(55, 2, 1, 51), // its last counters, as it exits
    exited(60, 2, 1),
  ]);
  assert.deepEqual(swaps, [
    { generation: 2, oldWorkers: 2, oldServed: 4, newServed: 7, cut: 0, durationMs: 30 },
  ]);
});

test('a kill that cut requests counts them; nothing is told before the last old worker is gone', () => {
  const events = [spawned(0, 1, 1), spawned(0, 2, 2), live(10, 2), cut(20, 1, 1, 3)];
  assert.deepEqual(tally(events), []);
  assert.equal(tally([...events, exited(25, 1, 1)])[0]!.cut, 3);
});

test('no swap without an old generation beside it (after WINCH, a replace-mode reload); overlapping swaps each end on their own', () => {
  assert.deepEqual(tally([spawned(0, 1, 1), live(10, 1)]), []);
  const swaps = tally([
    spawned(0, 1, 1),
    spawned(5, 2, 2),
    live(10, 2),
    spawned(15, 3, 3),
    live(20, 3), // generation 1 still drains: it is old to both
    exited(30, 1, 1),
    exited(40, 2, 2),
  ]);
  assert.deepEqual(
    swaps.map((swap) => [swap.generation, swap.oldWorkers, swap.durationMs]),
    [
      [2, 1, 20],
      [3, 2, 20],
    ],
  );
});
