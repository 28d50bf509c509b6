import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NEW_COUNTERS_WAIT_MS, SwapTally, type Swap } from '../../runner/arbiter/generations/swap-tally';
import type { ArbiterEvent, EventOf } from '../../runner/protocol/events';

const ref = (id: number, generation: number) => ({ v: 1 as const, id, pid: 1000 + id, generation });
const spawned = (ts: number, id: number, generation: number): ArbiterEvent => ({
  ...ref(id, generation),
  ts,
  type: 'worker.spawned',
});
const stats = (
  ts: number,
  id: number,
  generation: number,
  served: number,
  inflight = 0,
): EventOf<'worker.stats'> => ({
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
/** Its counters as it stopped accepting. */
const closed = (ts: number, id: number, generation: number, served: number, inflight = 0): ArbiterEvent => ({
  ...stats(ts, id, generation, served, inflight),
  closed: true,
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

/** The swaps told for `events`; `waited`: the wait for the new workers' counters ran out at the end. */
function tally(events: ArbiterEvent[], { waited = true } = {}): Swap[] {
  const swaps: Swap[] = [];
  const timers: (() => void)[] = [];
  const tally = new SwapTally(
    (swap) => swaps.push(swap),
    (fn, ms) => {
      assert.equal(ms, NEW_COUNTERS_WAIT_MS);
      timers.push(fn);
    },
  );
  for (const event of events) tally.observe(event);
  if (waited) for (const fn of timers) fn();
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
    closed(32, 1, 1, 101, 1), // its counters as it stopped accepting: the swap counts from here
    closed(32, 2, 1, 50),
    stats(40, 1, 1, 103), // the old ones finish what they had, and one more a kept-alive connection brought
    stats(40, 3, 2, 7),
    exited(50, 1, 1),
    stats(55, 2, 1, 51), // its last counters, as it exits
    exited(60, 2, 1),
  ]);
  assert.deepEqual(swaps, [
    { generation: 2, oldWorkers: 2, oldServed: 3, newServed: 7, cut: 0, durationMs: 30 },
  ]);
});

test('the new side is told as its workers next report after the end (their counters are up to a second behind), or once the wait ran out', () => {
  const events = [spawned(0, 1, 1), spawned(5, 2, 2), live(10, 2), stats(15, 2, 2, 3), exited(20, 1, 1)];
  assert.deepEqual(tally(events, { waited: false }), [], 'waiting for worker 2 to report again');
  assert.equal(tally([...events, stats(900, 2, 2, 40)], { waited: false })[0]!.newServed, 40);
  assert.equal(tally(events)[0]!.newServed, 3, 'it served nothing more: told with what it said');
  assert.equal(tally(events)[0]!.durationMs, 10, 'the swap itself ended at the old exit');
});

test('an old worker that stopped accepting before the reload said completed counts from its closed counters', () => {
  const swaps = tally([
    spawned(0, 1, 1),
    spawned(5, 2, 2),
    closed(9, 1, 1, 0, 1), // the handover: the old one closes, then the reload is told complete
    live(10, 2),
    stats(900, 1, 1, 1),
    exited(910, 1, 1),
  ]);
  assert.equal(swaps[0]!.oldServed, 1);
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
