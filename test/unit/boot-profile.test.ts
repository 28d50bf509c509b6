import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  assembleBootProfile,
  firstReady,
  type ProfileFacts,
} from '../../runner/arbiter/generations/boot-profile';
import { parseWorkerMessage } from '../../runner/protocol/control';
import { bootProfileSchema } from '../../runner/protocol/events';

const workerProfile = { bootMs: 40, deps: { warm: false, modules: 12, ms: 15 }, codeMs: 18, listenMs: 5 };

/** Saves at t=1000; the batch closes at 1020, the worker is taken at 1031 and ready at 1075. */
const saved: ProfileFacts = {
  cycleStartedAt: 1020,
  batch: { openedAt: 1000, closedAt: 1020 },
  build: { ms: 9.5, transformed: 1 },
  worker: { id: 3, spawnedAt: 1031, readyAt: 1075, warm: true, profile: workerProfile },
};

const parts = (p: ReturnType<typeof assembleBootProfile>) =>
  (p.batchMs ?? 0) +
  (p.buildMs ?? 0) +
  p.process.ms +
  (p.deps?.ms ?? 0) +
  (p.codeMs ?? 0) +
  (p.listenMs ?? 0);

test('a boot profile: each part from the side that saw it, adding up to at most the time to live', () => {
  const cases: [string, ProfileFacts, Partial<ReturnType<typeof assembleBootProfile>>][] = [
    [
      'a save of a built app, in a standby',
      saved,
      { liveMs: 75, batchMs: 20, buildMs: 9.5, transformed: 1, process: { warm: true, ms: 4 }, codeMs: 18 },
    ],
    [
      'a HUP: no batch, live from the cycle start; cold',
      { ...saved, batch: undefined, build: undefined, worker: { ...saved.worker, warm: false } },
      { liveMs: 55, process: { warm: false, ms: 4 } },
    ],
    [
      // Whole milliseconds on one side, finer ones on the other: the build never claims more
      // than the span between the batch and the spawn.
      'a build that rounds past its span',
      { ...saved, build: { ms: 11.4 } },
      { buildMs: 11 },
    ],
    [
      'a runtime that sent no profile: the whole worker span is the process part',
      { ...saved, worker: { ...saved.worker, profile: undefined } },
      { process: { warm: true, ms: 44 }, deps: undefined, codeMs: undefined },
    ],
    [
      // The standby preloaded (ES modules the worker cannot see): the arbiter says warm.
      'a standby that preloaded 412 modules',
      { ...saved, worker: { ...saved.worker, preloaded: { modules: 412 } } },
      { deps: { warm: true, modules: 412, ms: 15 } },
    ],
  ];
  for (const [name, facts, expected] of cases) {
    const profile = assembleBootProfile(facts);
    for (const [key, value] of Object.entries(expected))
      assert.deepEqual(profile[key as keyof typeof profile], value, `${name}: ${key}`);
    assert.ok(
      parts(profile) <= profile.liveMs,
      `${name}: the parts (${parts(profile)}) within ${profile.liveMs}`,
    );
    assert.deepEqual(bootProfileSchema.parse(profile), profile, `${name}: as the event stream types it`);
  }
});

test("the generation's first ready worker is the one whose profile counts", () => {
  const workers = [
    { id: 1, generation: 1, readyAt: 10 },
    { id: 2, generation: 2, readyAt: undefined },
    { id: 3, generation: 2, readyAt: 50 },
    { id: 4, generation: 2, readyAt: 40 },
  ];
  assert.equal(firstReady(workers, 2)?.id, 4);
  assert.equal(firstReady(workers, 3), undefined);
});

test("a worker's ready carries its profile, validated like every message", () => {
  const ready = parseWorkerMessage(JSON.stringify({ type: 'ready', profile: workerProfile }));
  assert.deepEqual(ready, { ok: true, value: { type: 'ready', profile: workerProfile } });
  assert.equal(parseWorkerMessage('{"type":"ready"}').ok, true, 'a runtime that sends none still boots');
  const bad = parseWorkerMessage(
    JSON.stringify({ type: 'ready', profile: { ...workerProfile, deps: { warm: 'yes' } } }),
  );
  assert.equal(bad.ok, false);
});
