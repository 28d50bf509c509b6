import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LOOP_CYCLES, ReloadLoops } from '../../runner/arbiter/intake/reload-loops';

/**
 * One step of a timeline (times in ms): a cycle's trigger, its settling (completed or failed),
 * or a batch whose first change came at `at`, with the files it should start a cycle on and
 * those it should report as looping.
 */
type Step =
  | ['start', number]
  | ['settle', number]
  | ['batch', number, files: string[], cycles: string[], looping?: string[]];

/** A cycle booting from `at` to `at + 100`, and a batch of `files` opened at `at + echoAt`. */
const bootEchoed = (at: number, files: string[], cycles: string[], looping: string[] = []): Step[] => [
  ['start', at],
  ['batch', at + 40, files, cycles, looping],
  ['settle', at + 100],
];

const TABLE: Record<string, Step[]> = {
  'a file the app writes as it boots: twice it cycles, the 3rd time it is a loop, reported once': [
    ...bootEchoed(0, ['state.json'], ['state.json']),
    ...bootEchoed(100, ['state.json'], ['state.json']),
    ...bootEchoed(200, ['state.json'], [], ['state.json']),
    // A real edit still cycles; the boot it starts writes state.json again, left out silently.
    ['batch', 1000, ['app.js'], ['app.js']],
    ...bootEchoed(1010, ['state.json'], []),
    // A change to it while no cycle boots is an edit: it counts.
    ['batch', 2000, ['state.json'], ['state.json']],
  ],
  'saves that come right after each reload completed are never a loop, however many': [
    ...Array.from({ length: 10 }, (_, i): Step[] => [
      ['start', i * 100],
      ['settle', i * 100 + 60],
      ['batch', i * 100 + 61, ['app.js'], ['app.js']],
    ]).flat(),
  ],
  'two boots echoed, then a cycle without it: the streak starts again': [
    ...bootEchoed(0, ['index.html'], ['index.html']),
    ...bootEchoed(100, ['index.html'], ['index.html']),
    ['start', 200],
    ['settle', 300],
    ...bootEchoed(400, ['index.html'], ['index.html']),
    ...bootEchoed(500, ['index.html'], ['index.html']),
  ],
  'code saved during every boot (someone typing on while a slow app boots) is never a loop': [
    ...['app.js', 'server.ts', 'routes.mjs', 'views.py'].flatMap((file) =>
      [0, 1, 2, 3, 4].flatMap((i) => bootEchoed(i * 100, [file], [file])),
    ),
  ],
  'a batch that opened during a boot but arrives after the next cycle began counts for the boot it opened in':
    [
      ...bootEchoed(0, ['state.json'], ['state.json']),
      ...bootEchoed(100, ['state.json'], ['state.json']),
      ['start', 200],
      ['settle', 300],
      ['start', 300],
      ['batch', 290, ['state.json'], [], ['state.json']],
    ],
  'two batches within one boot are one echo': [
    ['start', 0],
    ['batch', 10, ['state.json'], ['state.json']],
    ['batch', 50, ['state.json'], ['state.json']],
    ['settle', 100],
    ...bootEchoed(100, ['state.json'], ['state.json']),
  ],
  'a looping file in a batch with a real edit: the edit cycles alone': [
    ...bootEchoed(0, ['state.json'], ['state.json']),
    ...bootEchoed(100, ['state.json', 'app.js'], ['state.json', 'app.js']),
    ...bootEchoed(200, ['state.json', 'lib.js'], ['lib.js'], ['state.json']),
  ],
  'changes while no cycle ever boots (before the first one, between them) never echo': [
    ['batch', 0, ['state.json'], ['state.json']],
    ['start', 10],
    ['settle', 20],
    ['batch', 30, ['state.json'], ['state.json']],
    ['batch', 40, ['state.json'], ['state.json']],
    ['batch', 50, ['state.json'], ['state.json']],
  ],
};

for (const [name, steps] of Object.entries(TABLE)) {
  test(name, () => {
    const loops = new ReloadLoops();
    steps.forEach((step, index) => {
      if (step[0] === 'start') return loops.cycleStarted(step[1]);
      if (step[0] === 'settle') return loops.cycleSettled(step[1]);
      const [, at, files, cycles, looping = []] = step;
      assert.deepEqual(
        loops.batch(files, at),
        { files: cycles, looping },
        `step ${index}: ${JSON.stringify(step)}`,
      );
    });
  });
}

test('the event stream drives it: a failed cycle is a cycle too', () => {
  const loops = new ReloadLoops();
  const envelope = { v: 1, generation: 2, trigger: 'file change' } as const;
  for (let i = 0; i < LOOP_CYCLES; i++) {
    loops.observe({ ...envelope, type: 'reload', phase: 'triggered', ts: i * 100 });
    const verdict = loops.batch(['state.json'], i * 100 + 10);
    loops.observe({ ...envelope, type: 'reload', phase: 'failed', ts: i * 100 + 50 });
    assert.deepEqual(verdict.looping, i === LOOP_CYCLES - 1 ? ['state.json'] : []);
  }
});

test("a generation live at its first ready worker still boots the rest: their writes are the cycle's too", () => {
  const loops = new ReloadLoops();
  const cycle = (generation: number, ts: number) => {
    const base = { v: 1, generation } as const;
    loops.observe({ ...base, type: 'reload', phase: 'triggered', trigger: 'file change', ts });
    for (const id of [1, 2])
      loops.observe({ ...base, type: 'worker.spawned', id, pid: 100 + id, ts: ts + 1 });
    loops.observe({
      ...base,
      type: 'worker.state',
      id: 1,
      pid: 101,
      state: 'ready',
      reason: 'up',
      ts: ts + 10,
    });
    loops.observe({ ...base, type: 'reload', phase: 'completed', trigger: 'file change', ts: ts + 11 });
    // The second worker writes state.json as it boots, after the reload completed.
    const verdict = loops.batch(['state.json'], ts + 20);
    loops.observe({
      ...base,
      type: 'worker.state',
      id: 2,
      pid: 102,
      state: 'ready',
      reason: 'up',
      ts: ts + 30,
    });
    return verdict;
  };
  for (let i = 0; i < LOOP_CYCLES; i++) {
    const verdict = cycle(i + 2, i * 100);
    assert.deepEqual(verdict.looping, i === LOOP_CYCLES - 1 ? ['state.json'] : []);
  }
  // Once all of it booted, a write is a change again (a save while none boots).
  assert.deepEqual(loops.batch(['other.json'], LOOP_CYCLES * 100), { files: ['other.json'], looping: [] });
});

test('a write seen late (the watcher starved of CPU) is judged by when it was written', () => {
  const loops = new ReloadLoops();
  // Each boot writes state.json at start + 20; the watcher sees it only after the cycle settled.
  const verdicts = [0, 1, 2].map((i) => {
    const start = i * 1_000;
    loops.cycleStarted(start);
    loops.cycleSettled(start + 100);
    return loops.batch(['state.json'], start + 400, () => start + 20);
  });
  assert.deepEqual(verdicts.at(-1), { files: [], looping: ['state.json'] });
  // Without the write time, the same late batches look like a person's saves.
  const blind = new ReloadLoops();
  const seen = [0, 1, 2].map((i) => {
    blind.cycleStarted(i * 1_000);
    blind.cycleSettled(i * 1_000 + 100);
    return blind.batch(['state.json'], i * 1_000 + 400);
  });
  assert.deepEqual(seen.at(-1), { files: ['state.json'], looping: [] });
  // A file written outside every boot counts, whatever it is.
  assert.deepEqual(
    loops.batch(['state.json'], 5_000, () => 4_990),
    { files: ['state.json'], looping: [] },
  );
});
