import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FINAL_STATES,
  LIVE_STATES,
  transition,
  type LifecycleInput,
} from '../../runner/arbiter/workers/lifecycle';
import { WORKER_STATES, type WorkerState } from '../../runner/protocol/events';

/** Every input the lifecycle knows, with a short name for the table's columns. */
const INPUTS = {
  ready: { kind: 'ready' },
  stop: { kind: 'stop' },
  'boot-timeout': { kind: 'boot-timeout' },
  'heartbeat-timeout': { kind: 'heartbeat-timeout' },
  'stop-timeout': { kind: 'stop-timeout' },
  kill: { kind: 'kill' },
  'exit clean': { kind: 'exit', clean: true },
  'exit unclean': { kind: 'exit', clean: false },
} as const satisfies Record<string, LifecycleInput>;
type InputName = keyof typeof INPUTS;

/** `undefined`: the input does not apply in that state and the caller ignores it. */
type Row = Record<InputName, WorkerState | undefined>;
const none: Row = {
  ready: undefined,
  stop: undefined,
  'boot-timeout': undefined,
  'heartbeat-timeout': undefined,
  'stop-timeout': undefined,
  kill: undefined,
  'exit clean': undefined,
  'exit unclean': undefined,
};

// The whole table, state by state, as the doc comment of lifecycle.ts draws it.
const TABLE: Record<WorkerState, Row> = {
  booting: {
    ready: 'ready',
    stop: 'draining',
    'boot-timeout': 'boot-failed',
    'heartbeat-timeout': 'timed-out',
    'stop-timeout': undefined,
    kill: 'killed',
    'exit clean': 'boot-failed',
    'exit unclean': 'boot-failed',
  },
  ready: {
    ready: undefined,
    stop: 'draining',
    'boot-timeout': undefined,
    'heartbeat-timeout': 'timed-out',
    'stop-timeout': undefined,
    kill: 'killed',
    'exit clean': 'exited',
    'exit unclean': 'crashed',
  },
  draining: {
    ready: undefined,
    stop: undefined,
    'boot-timeout': undefined,
    'heartbeat-timeout': 'timed-out',
    'stop-timeout': 'killed',
    kill: 'killed',
    'exit clean': 'exited',
    'exit unclean': 'exited',
  },
  exited: none,
  'boot-failed': none,
  crashed: none,
  'timed-out': none,
  killed: none,
};

void test('the table covers every worker state and every input', () => {
  assert.deepEqual(Object.keys(TABLE).sort(), [...WORKER_STATES].sort());
  for (const row of Object.values(TABLE))
    assert.deepEqual(Object.keys(row).sort(), Object.keys(INPUTS).sort());
});

for (const state of WORKER_STATES) {
  void test(`transitions from ${state}`, () => {
    for (const [name, input] of Object.entries(INPUTS) as [InputName, LifecycleInput][]) {
      assert.equal(transition(state, input), TABLE[state][name], `${state} + ${name}`);
    }
  });
}

void test('the final states are exactly those no input leaves', () => {
  const final = WORKER_STATES.filter((state) =>
    Object.values(INPUTS).every((input) => transition(state, input) === undefined),
  );
  assert.deepEqual(new Set(final), FINAL_STATES);
});

void test('only booting and ready workers count as live', () => {
  assert.deepEqual(LIVE_STATES, new Set(['booting', 'ready']));
  for (const state of LIVE_STATES) assert.ok(!FINAL_STATES.has(state), `${state} is live and final`);
});

void test('every state can be reached from booting', () => {
  const reached = new Set<WorkerState>(['booting']);
  const queue: WorkerState[] = ['booting'];
  for (let state = queue.shift(); state; state = queue.shift()) {
    for (const input of Object.values(INPUTS)) {
      const next = transition(state, input);
      if (next && !reached.has(next)) {
        reached.add(next);
        queue.push(next);
      }
    }
  }
  assert.deepEqual(reached, new Set(WORKER_STATES));
});
