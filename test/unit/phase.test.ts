import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  isStopping,
  nextPhase,
  replacesWorkers,
  startsStandbys,
  type ArbiterPhase,
  type PhaseInput,
} from '../../runner/arbiter/phase';

/** Every phase the arbiter can be in, by a short name for the table's rows. */
const PHASES = {
  starting: { kind: 'starting' },
  serving: { kind: 'serving', cycle: undefined },
  'cycling beside': { kind: 'serving', cycle: 'beside' },
  'cycling, replacing': { kind: 'serving', cycle: 'replacing' },
  'stopping graceful': { kind: 'stopping', mode: 'graceful' },
  'stopping quick': { kind: 'stopping', mode: 'quick' },
  'stopping kill': { kind: 'stopping', mode: 'kill' },
  halted: { kind: 'halted' },
} as const satisfies Record<string, ArbiterPhase>;
type PhaseName = keyof typeof PHASES;

const INPUTS = {
  served: { kind: 'served' },
  cycle: { kind: 'cycle' },
  replace: { kind: 'replace' },
  cycled: { kind: 'cycled' },
  'stop graceful': { kind: 'stop', mode: 'graceful' },
  'stop quick': { kind: 'stop', mode: 'quick' },
  kill: { kind: 'kill' },
  halt: { kind: 'halt' },
} as const satisfies Record<string, PhaseInput>;
type InputName = keyof typeof INPUTS;

/** `undefined`: the input does not apply in that phase and the arbiter ignores it. */
type Row = Record<InputName, PhaseName | undefined>;
const none: Row = {
  served: undefined,
  cycle: undefined,
  replace: undefined,
  cycled: undefined,
  'stop graceful': undefined,
  'stop quick': undefined,
  kill: undefined,
  halt: undefined,
};
const stops = {
  'stop graceful': 'stopping graceful',
  'stop quick': 'stopping quick',
  kill: 'stopping kill',
} as const;

// The whole table, as the doc comment of phase.ts draws it.
const TABLE: Record<PhaseName, Row> = {
  starting: { ...none, served: 'serving', ...stops, halt: 'halted' },
  serving: { ...none, cycle: 'cycling beside', ...stops },
  'cycling beside': { ...none, replace: 'cycling, replacing', cycled: 'serving', ...stops },
  'cycling, replacing': { ...none, cycled: 'serving', ...stops },
  // Stops only get closer: graceful → quick → kill, never back, and a repeat changes nothing.
  'stopping graceful': { ...none, 'stop quick': 'stopping quick', kill: 'stopping kill', halt: 'halted' },
  'stopping quick': { ...none, kill: 'stopping kill', halt: 'halted' },
  'stopping kill': { ...none, halt: 'halted' },
  halted: none,
};

for (const [phaseName, row] of Object.entries(TABLE) as [PhaseName, Row][]) {
  test(`phase ${phaseName}`, () => {
    for (const [inputName, expected] of Object.entries(row) as [InputName, PhaseName | undefined][]) {
      assert.deepEqual(
        nextPhase(PHASES[phaseName], INPUTS[inputName]),
        expected === undefined ? undefined : PHASES[expected],
        `${phaseName} + ${inputName}`,
      );
    }
  });
}

test('what each phase allows', () => {
  const allowed = (name: PhaseName) => ({
    stopping: isStopping(PHASES[name]),
    replaces: replacesWorkers(PHASES[name]),
    standbys: startsStandbys(PHASES[name]),
  });
  assert.deepEqual(allowed('starting'), { stopping: false, replaces: false, standbys: false });
  assert.deepEqual(allowed('serving'), { stopping: false, replaces: true, standbys: true });
  // Lost workers are replaced while the next generation boots beside, but no standby takes its CPU.
  assert.deepEqual(allowed('cycling beside'), { stopping: false, replaces: true, standbys: false });
  assert.deepEqual(allowed('cycling, replacing'), { stopping: false, replaces: false, standbys: false });
  for (const name of ['stopping graceful', 'stopping quick', 'stopping kill', 'halted'] as const)
    assert.deepEqual(allowed(name), { stopping: true, replaces: false, standbys: false }, name);
});
