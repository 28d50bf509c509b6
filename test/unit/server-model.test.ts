import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RETIRED_GENERATIONS_KEPT, ServerModel } from '../../extension/model/server-model';
import { generationDescription, reloadDescription } from '../../extension/views/describe';
import type { ArbiterEvent, EventBody } from '../../runner/protocol/events';

/** Events as the arbiter writes them, one millisecond apart from t = 1000. */
function stream(bodies: EventBody[]): ArbiterEvent[] {
  return bodies.map((body, index) => ({ v: 1, ts: 1000 + index, ...body }));
}

const ref = (id: number, generation: number) => ({ id, pid: 100 + id, generation });

/** A generation of two workers spawned and ready. */
const generation = (first: number, generation: number): EventBody[] => [
  { type: 'worker.spawned', ...ref(first, generation) },
  { type: 'worker.spawned', ...ref(first + 1, generation) },
  { type: 'worker.state', ...ref(first, generation), state: 'ready', reason: 'listening' },
  { type: 'worker.state', ...ref(first + 1, generation), state: 'ready', reason: 'listening' },
];

/** A worker stopped by a reload: the stop's signal, draining, its hook, its exit. */
const retired = (id: number, generation: number, hook: 'ok' | 'never'): EventBody[] => [
  {
    type: 'signal',
    ...ref(id, generation),
    direction: 'sent',
    signal: 'SIGTERM',
    via: 'message',
    reason: 'graceful stop: reload',
  },
  {
    type: 'worker.state',
    ...ref(id, generation),
    state: 'draining',
    reason: 'graceful stop: reload',
    deadline: 31_000,
  },
  { type: 'hook', scope: 'worker', pid: 100 + id, name: 'onShutdown closePool', phase: 'start' },
  ...(hook === 'ok'
    ? ([
        {
          type: 'hook',
          scope: 'worker',
          pid: 100 + id,
          name: 'onShutdown closePool',
          phase: 'end',
          outcome: 'ok',
          durationMs: 12,
        },
        {
          type: 'worker.exited',
          ...ref(id, generation),
          code: 0,
          signal: null,
          state: 'exited',
          reason: 'exited (exit code 0)',
        },
      ] as EventBody[])
    : ([
        { type: 'worker.state', ...ref(id, generation), state: 'killed', reason: 'graceful timeout ran out' },
        {
          type: 'worker.exited',
          ...ref(id, generation),
          code: null,
          signal: 'SIGKILL',
          state: 'killed',
          reason: 'killed (graceful timeout)',
        },
      ] as EventBody[])),
];

function model(bodies: EventBody[]): ServerModel {
  const built = new ServerModel();
  for (const event of stream(bodies)) built.apply(event);
  return built;
}

const started: EventBody = {
  type: 'arbiter.started',
  pid: 42,
  listeners: [{ host: '127.0.0.1', port: 8000 }],
  config: { app: 'server.js', workers: 2, gracefulTimeout: 30, timeout: 30, bootTimeout: 30, maxRequests: 0 },
};

test('a start: one serving generation of two ready workers', () => {
  const m = model([started, ...generation(1, 1)]);
  assert.equal(m.phase, 'running');
  assert.equal(m.serving, 1);
  assert.deepEqual(m.listeners, [{ host: '127.0.0.1', port: 8000 }]);
  const [only] = m.generationList();
  assert.equal(m.statusOf(only!), 'serving');
  assert.equal(m.readyCount(), 2);
  assert.deepEqual(
    only!.workers.map((w) => [w.id, w.pid, w.state]),
    [
      [1, 101, 'ready'],
      [2, 102, 'ready'],
    ],
  );
});

test('a reload: the new generation serves, the old one drains with its deadline, signals and hooks', () => {
  const m = model([
    started,
    ...generation(1, 1),
    { type: 'reload', phase: 'triggered', generation: 2, trigger: 'file change', files: ['/p/app.js'] },
    ...generation(3, 2),
    { type: 'reload', phase: 'completed', generation: 2, trigger: 'file change', durationMs: 48 },
    ...retired(1, 1, 'ok'),
    {
      type: 'signal',
      ...ref(2, 1),
      direction: 'sent',
      signal: 'SIGTERM',
      via: 'message',
      reason: 'graceful stop: reload',
    },
    {
      type: 'worker.state',
      ...ref(2, 1),
      state: 'draining',
      reason: 'graceful stop: reload',
      deadline: 31_000,
    },
  ]);
  assert.equal(m.serving, 2);
  const [newer, older] = m.generationList();
  assert.equal(m.statusOf(newer!), 'serving');
  assert.equal(m.statusOf(older!), 'draining');
  const [done, draining] = older!.workers;
  assert.equal(done!.state, 'exited');
  assert.deepEqual(done!.exit, { code: 0, signal: null, reason: 'exited (exit code 0)', at: done!.since });
  assert.deepEqual(
    done!.signals.map((s) => [s.signal, s.via, s.reason]),
    [['SIGTERM', 'message', 'graceful stop: reload']],
  );
  assert.deepEqual(
    done!.hooks.map((h) => [h.name, h.outcome, h.durationMs]),
    [['onShutdown closePool', 'ok', 12]],
  );
  assert.equal(draining!.state, 'draining');
  assert.equal(draining!.deadline, 31_000);
  assert.deepEqual(
    m.reloads.map((r) => [r.generation, r.phase, r.trigger, r.durationMs, r.files]),
    [[2, 'completed', 'file change', 48, ['/p/app.js']]],
  );
});

test("a completed reload's boot profile reaches its row", () => {
  const profile = {
    liveMs: 70,
    batchMs: 20,
    process: { warm: true, ms: 1 },
    deps: { warm: false, modules: 3, ms: 4 },
    codeMs: 30,
    listenMs: 2,
    worker: 3,
  };
  const m = model([
    started,
    ...generation(1, 1),
    { type: 'reload', phase: 'triggered', generation: 2, trigger: 'file change', files: ['/p/app.js'] },
    ...generation(3, 2),
    { type: 'reload', phase: 'completed', generation: 2, trigger: 'file change', durationMs: 48, profile },
  ]);
  assert.deepEqual(m.reloads[0]!.profile, profile);
});

test('a hook that never ended on a killed worker is shown as killed; on one that exited, as interrupted', () => {
  const m = model([started, ...generation(1, 1), ...retired(1, 1, 'never')]);
  assert.deepEqual(
    m.worker(101)!.hooks.map((h) => h.outcome),
    ['killed'],
  );
  const exitedEarly = model([
    started,
    ...generation(1, 1),
    { type: 'hook', scope: 'worker', pid: 101, name: 'SIGTERM handler drain', phase: 'start' },
    { type: 'worker.exited', ...ref(1, 1), code: 0, signal: null, state: 'exited', reason: 'exited' },
  ]);
  assert.deepEqual(
    exitedEarly.worker(101)!.hooks.map((h) => h.outcome),
    ['interrupted'],
  );
});

test('a failed reload keeps the old generation serving and carries the error', () => {
  const error = { message: 'SyntaxError: Unexpected token', file: '/p/app.js', line: 3, column: 7 };
  const m = model([
    started,
    ...generation(1, 1),
    { type: 'reload', phase: 'triggered', generation: 2, trigger: 'file change' },
    { type: 'reload', phase: 'failed', generation: 2, trigger: 'file change', durationMs: 9, error },
  ]);
  assert.equal(m.serving, 1);
  assert.equal(m.reloads[0]!.phase, 'failed');
  assert.deepEqual(m.reloads[0]!.error, error);
});

test(`only ${RETIRED_GENERATIONS_KEPT} retired generations are kept, unless one still drains`, () => {
  const bodies: EventBody[] = [started, ...generation(1, 1)];
  let id = 3;
  for (let g = 2; g <= 7; g++, id += 2) {
    bodies.push({ type: 'reload', phase: 'triggered', generation: g, trigger: 'SIGHUP' });
    bodies.push(...generation(id, g));
    bodies.push({ type: 'reload', phase: 'completed', generation: g, trigger: 'SIGHUP' });
    // Generation 2's first worker never leaves; every other old worker does.
    for (const old of [id - 2, id - 1]) {
      if (old === 3) continue;
      bodies.push({
        type: 'worker.exited',
        ...ref(old, g - 1),
        code: 0,
        signal: null,
        state: 'exited',
        reason: 'exited',
      });
    }
  }
  const m = model(bodies);
  assert.deepEqual(
    m.generationList().map((g) => g.generation),
    [7, 6, 5, 4, 2],
    'the serving one, three retired, and generation 2, still draining',
  );
  assert.equal(m.worker(101), undefined, 'forgotten with its generation');
});

test('the arbiter stopping and exiting', () => {
  const m = model([
    started,
    ...generation(1, 1),
    { type: 'signal', direction: 'received', signal: 'SIGINT', pid: 42, reason: 'received by the arbiter' },
  ]);
  assert.equal(m.phase, 'stopping');
  assert.equal(m.arbiterSignals[0]!.signal, 'SIGINT');
  m.apply({ v: 1, ts: 5000, type: 'arbiter.exited', code: 0, reason: 'graceful stop' });
  assert.equal(m.phase, 'exited');
  assert.equal(m.exitCode, 0);
});

test('an arbiter killed without a word: its workers are shown as ended with it, nothing as serving', () => {
  const m = model([started, ...generation(1, 1)]);
  m.arbiterGone('was killed by SIGKILL', 9000);
  assert.equal(m.phase, 'exited');
  assert.deepEqual(m.liveWorkers(), []);
  const [only] = m.generationList();
  assert.equal(m.statusOf(only!), 'retired');
  assert.equal(only!.workers[0]!.exit?.reason, 'ended with the arbiter, which was killed by SIGKILL');
  // After a clean exit (its own arbiter.exited event), nothing is rewritten.
  const clean = model([started, ...generation(1, 1)]);
  clean.apply({ v: 1, ts: 5000, type: 'arbiter.exited', code: 0, reason: 'graceful stop' });
  clean.arbiterGone('exited with code 0', 9000);
  assert.equal(clean.generationList()[0]!.workers[0]!.exit, undefined);
});

test('a gap in the stream is counted: what the model shows may be out of date', () => {
  const m = model([started, ...generation(1, 1)]);
  assert.equal(m.eventsDropped, 0);
  m.apply({
    v: 1,
    ts: 6000,
    type: 'events.gap',
    dropped: 40,
    since: 5000,
    reason: 'its reader is 4 MiB behind',
  });
  m.apply({
    v: 1,
    ts: 7000,
    type: 'events.gap',
    dropped: 2,
    since: 6500,
    reason: 'its reader is 4 MiB behind',
  });
  assert.equal(m.eventsDropped, 42);
  assert.equal(m.liveWorkers().length, 2, 'the rest of the model is kept');
});

test('a generation that went live at its first ready worker shows it serving, the rest still booting', () => {
  const model = new ServerModel();
  const events = stream([
    ...generation(1, 1),
    { type: 'reload', phase: 'triggered', generation: 2, trigger: 'SIGHUP' },
    { type: 'worker.spawned', ...ref(3, 2) },
    { type: 'worker.spawned', ...ref(4, 2) },
    { type: 'worker.state', ...ref(3, 2), state: 'ready', reason: 'listening' },
    {
      type: 'reload',
      phase: 'completed',
      generation: 2,
      trigger: 'SIGHUP',
      durationMs: 40,
      ready: 1,
      workers: 2,
    },
  ]);
  for (const event of events) model.apply(event);
  const row = model.generations.get(2)!;
  assert.equal(model.serving, 2);
  assert.equal(model.statusOf(row), 'serving');
  assert.equal(generationDescription(model, row, 2000), 'serving · 2 of 2 running · 1 still booting');
  assert.equal(reloadDescription(model.reloads[0]!, 2000), 'live in 40 ms with 1 of 2 ready');
});

test('what a stuck worker was doing reaches its row, and stays once it is gone', () => {
  const threads = [
    {
      name: 'flusher',
      daemon: false,
      frames: [
        { file: '/srv/app/flusher.py', line: 12, function: 'run', source: 'while not self.cancelled:' },
      ],
    },
  ];
  const m = model([
    started,
    ...generation(1, 1),
    { type: 'worker.stacks', ...ref(1, 1), at: 'stop-timeout', threads, lingering: ['thread flusher'] },
    ...retired(1, 1, 'never'),
  ]);
  const worker = m.generationList()[0]!.workers.find((w) => w.id === 1)!;
  assert.equal(worker.state, 'killed');
  assert.equal(worker.stacks?.at, 'stop-timeout');
  assert.deepEqual(worker.stacks?.threads, threads);
  assert.deepEqual(worker.stacks?.lingering, ['thread flusher']);
  assert.equal(worker.stacks?.unavailable, undefined);
});
