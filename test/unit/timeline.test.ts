import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerModel } from '../../extension/model/server-model';
import { timelineHtml } from '../../extension/views/timeline-html';
import { timelineOf, underway } from '../../extension/views/timeline-view';
import type { EventBody } from '../../runner/protocol/events';

const ref = (id: number, generation: number) => ({ id, pid: 100 + id, generation });

/** Worker `id` exited on its own, with code 0. */
const exitedOk = (id: number, generation: number): EventBody => ({
  type: 'worker.exited',
  ...ref(id, generation),
  code: 0,
  signal: null,
  state: 'exited',
  reason: 'exited (exit code 0)',
});

/**
 * One reload, as the arbiter tells it (t in ms from 10 000): generation 1 serves, a save boots
 * generation 2, which takes over; the old worker gets SIGTERM through the control channel,
 * drains with a deadline, runs a hook with a nested one inside it, closes its Redis
 * connections but one PostgreSQL connection, and exits.
 */
const RELOAD: [number, EventBody][] = [
  [0, { type: 'worker.spawned', ...ref(1, 1) }],
  [100, { type: 'worker.state', ...ref(1, 1), state: 'ready', reason: 'listening' }],
  [1_000, { type: 'reload', phase: 'triggered', generation: 2, trigger: 'file change', files: ['/p/a.js'] }],
  [1_010, { type: 'worker.spawned', ...ref(2, 2) }],
  [1_060, { type: 'worker.state', ...ref(2, 2), state: 'ready', reason: 'listening' }],
  [1_070, { type: 'reload', phase: 'completed', generation: 2, trigger: 'file change', durationMs: 70 }],
  [
    1_080,
    { type: 'signal', ...ref(1, 1), direction: 'sent', signal: 'SIGTERM', via: 'message', reason: 'reload' },
  ],
  [1_090, { type: 'worker.state', ...ref(1, 1), state: 'draining', reason: 'reload', deadline: 41_090 }],
  [
    1_095,
    {
      type: 'worker.resources',
      ...ref(1, 1),
      at: 'stop',
      held: held([
        { peer: '127.0.0.1:6379', service: 'Redis', count: 3 },
        { peer: '127.0.0.1:5432', service: 'PostgreSQL', count: 1 },
      ]),
    },
  ],
  [1_100, { type: 'hook', scope: 'worker', pid: 101, name: 'close <pool>', phase: 'start' }],
  [1_150, { type: 'hook', scope: 'worker', pid: 101, name: 'flush', phase: 'start' }],
  [
    1_250,
    { type: 'hook', scope: 'worker', pid: 101, name: 'flush', phase: 'end', outcome: 'ok', durationMs: 100 },
  ],
  [
    1_400,
    {
      type: 'hook',
      scope: 'worker',
      pid: 101,
      name: 'close <pool>',
      phase: 'end',
      outcome: 'error',
      durationMs: 300,
      error: 'boom',
    },
  ],
  [
    1_410,
    {
      type: 'worker.resources',
      ...ref(1, 1),
      at: 'exit',
      held: held([{ peer: '127.0.0.1:5432', service: 'PostgreSQL', count: 1 }]),
    },
  ],
  [1_420, exitedOk(1, 1)],
];

function held(connections: { peer: string; service: string; count: number }[]) {
  return { connections, listening: [], files: [], openFiles: 0, children: [] };
}

function model(events: [number, EventBody][]): ServerModel {
  const m = new ServerModel();
  for (const [t, body] of events) m.apply({ v: 1, ts: 10_000 + t, ...body });
  return m;
}

test('a reload: lanes per worker with their states, the signal and how it travelled, the deadline, the takeover', () => {
  const view = timelineOf(model(RELOAD), { kind: 'reload', generation: 2 }, 10_000 + 2_000, 'shop');
  assert.equal(view.title, 'shop: the reload to generation 2');
  assert.deepEqual(
    view.lanes.map((lane) => lane.title),
    ['worker 1 · gen 1', 'worker 2 · gen 2'],
  );
  const [old, young] = view.lanes;
  assert.deepEqual(
    old!.states.map(({ state, from, to, open }) => [state, from - 10_000, to - 10_000, open]),
    [
      ['booting', 0, 100, false],
      ['ready', 100, 1_090, false],
      ['draining', 1_090, 1_420, false],
    ],
  );
  // The young worker still serves: its last bar runs to now, open.
  assert.deepEqual(
    young!.states.map(({ state, to, open }) => [state, to - 10_000, open]),
    [
      ['booting', 1_060, false],
      ['ready', 2_000, true],
    ],
  );
  const markers = old!.markers.map((marker) => [marker.kind, marker.at - 10_000, marker.text]);
  assert.deepEqual(markers, [
    ['signal', 1_080, 'SIGTERM via the control channel: reload'],
    ['deadline', 31_090, 'kill deadline (30 s after the stop began)'],
    ['end', 1_420, 'exited: code 0, exited (exit code 0)'],
  ]);
  assert.deepEqual(
    view.takeovers.map((takeover) => [takeover.generation, takeover.at - 10_000]),
    [[2, 1_070]],
  );
  assert.match(
    old!.summary,
    /^worker 1, pid 101, generation 1; booting for 100 ms, ready for 990 ms, draining for 330 ms/,
  );
});

test('hooks are bars by outcome, one run inside another sits under it; what was held is compared', () => {
  const [old] = timelineOf(model(RELOAD), { kind: 'all' }, 12_000, 'shop').lanes;
  assert.deepEqual(
    old!.hooks.map(({ name, outcome, depth, text }) => [name, outcome, depth, text]),
    [
      ['close <pool>', 'error', 0, 'hook close <pool>: failed after 300 ms: boom'],
      ['flush', 'ok', 1, 'hook flush: ok in 100 ms'],
    ],
  );
  assert.deepEqual(old!.held, [
    { text: 'Redis 127.0.0.1:6379 · 3 → 0 ✓', leak: false },
    { text: 'PostgreSQL 127.0.0.1:5432 · 1 → 1: left open at exit', leak: true },
  ]);
});

test('a hook still running when its worker was killed ends at the kill; a running one grows to now', () => {
  const events: [number, EventBody][] = [
    [0, { type: 'worker.spawned', ...ref(1, 1) }],
    [10, { type: 'hook', scope: 'worker', pid: 101, name: 'drain', phase: 'start' }],
    [20, { type: 'worker.spawned', ...ref(2, 1) }],
    [30, { type: 'hook', scope: 'worker', pid: 102, name: 'drain', phase: 'start' }],
    [
      500,
      {
        type: 'worker.exited',
        ...ref(1, 1),
        code: null,
        signal: 'SIGKILL',
        state: 'killed',
        reason: 'Kill Now',
      },
    ],
  ];
  const view = timelineOf(model(events), { kind: 'worker', pid: 101 }, 10_000 + 900, 'shop');
  assert.equal(view.lanes.length, 2, 'the whole generation of the worker asked for');
  const [killed, running] = view.lanes;
  assert.deepEqual(
    killed!.hooks.map(({ outcome, to, text }) => [outcome, to - 10_000, text]),
    [['killed', 500, 'hook drain: never finished, the worker was killed after 490 ms']],
  );
  assert.deepEqual(
    running!.hooks.map(({ outcome, to }) => [outcome, to - 10_000]),
    [['running', 900]],
  );
  assert.equal(killed!.markers.at(-1)!.text, 'killed: by SIGKILL, Kill Now');
});

test('nothing yet: one line instead of lanes', () => {
  const view = timelineOf(new ServerModel(), { kind: 'all' }, 5_000, 'shop');
  assert.equal(view.empty, 'No worker to show yet.');
  assert.match(timelineHtml(view), /<p class="empty">No worker to show yet\.<\/p>/);
});

test('the HTML: every bar and marker has its words for the pointer and a screen reader; text is escaped', () => {
  const html = timelineHtml(timelineOf(model(RELOAD), { kind: 'all' }, 12_000, 'shop'));
  const bars = [...html.matchAll(/<div class="(bar|hook|marker)[^"]*" role="img"[^>]*>/g)].map((m) => m[0]);
  assert.equal(bars.length, 3 + 2 + 2 + 3, 'states (old, young), hooks, markers (old only)');
  for (const bar of bars) {
    const title = /title="([^"]*)"/.exec(bar)?.[1];
    const label = /aria-label="([^"]*)"/.exec(bar)?.[1];
    assert.ok(title && title === label, bar);
  }
  assert.match(html, /role="group" aria-label="worker 1, pid 101, generation 1; /);
  assert.ok(!html.includes('<pool>'), 'a hook name is text, never markup');
  assert.match(html, /close &#60;pool&#62;/);
  assert.match(
    html,
    /class="takeover" role="img" style="left:[\d.]+%" title="\+1\.2 s: generation 2 took over/,
  );
  // The kill deadline, 30 s after the stop, is far past what happened: drawn at the edge, not squashing the rest.
  assert.match(
    html,
    /class="marker deadline beyond" role="img" style="left:100%" title="\+31 s: kill deadline \(30 s after the stop began\), past the right edge"/,
  );
  assert.match(html, /<li class="leak">PostgreSQL 127\.0\.0\.1:5432 · 1 → 1: left open at exit<\/li>/);
});

test('hooks one after another share a row, even when a reported duration runs past the next start', () => {
  const hook = (
    t: number,
    phase: 'start' | 'end',
    name: string,
    durationMs?: number,
  ): [number, EventBody] => [
    t,
    {
      type: 'hook',
      scope: 'worker',
      pid: 101,
      name,
      phase,
      ...(phase === 'end' ? { outcome: 'ok', durationMs } : {}),
    },
  ];
  const events: [number, EventBody][] = [
    [0, { type: 'worker.spawned', ...ref(1, 1) }],
    hook(100, 'start', 'flush metrics'),
    // The worker measured 303 ms; the arbiter was told of the start late, of the end on time.
    hook(400, 'end', 'flush metrics', 303),
    hook(400, 'start', 'close db pool'),
    hook(4_400, 'end', 'close db pool', 4_000),
  ];
  const [lane] = timelineOf(model(events), { kind: 'all' }, 10_000 + 5_000, 'shop').lanes;
  assert.deepEqual(
    lane!.hooks.map(({ name, depth, text }) => [name, depth, text]),
    [
      ['flush metrics', 0, 'hook flush metrics: ok in 303 ms'],
      ['close db pool', 0, 'hook close db pool: ok in 4.0 s'],
    ],
  );
});

test('a worker that served for a minute between its boot and its stop: the quiet minute is drawn narrow, marked', () => {
  const events: [number, EventBody][] = [
    [0, { type: 'worker.spawned', ...ref(1, 1) }],
    [100, { type: 'worker.state', ...ref(1, 1), state: 'ready', reason: 'listening' }],
    [
      60_100,
      { type: 'signal', ...ref(1, 1), direction: 'sent', signal: 'SIGTERM', via: 'message', reason: 'stop' },
    ],
    [60_110, { type: 'worker.state', ...ref(1, 1), state: 'draining', reason: 'stop' }],
    [60_400, exitedOk(1, 1)],
  ];
  const view = timelineOf(model(events), { kind: 'all' }, 10_000 + 70_000, 'shop');
  assert.deepEqual(
    view.breaks.map(({ from, to }) => [from - 10_000, to - 10_000]),
    [[400, 59_800]],
  );
  const html = timelineHtml(view);
  assert.match(
    html,
    /class="break" role="img" style="left:[\d.]+%;width:4\.000%" title="59 s in which nothing changed, drawn narrow"/,
  );
  assert.match(
    html,
    /<p class="range">1 min 1 s shown \(59 s in which nothing changed drawn narrow\); 1 worker\(s\); 0 takeover\(s\)<\/p>/,
  );
  assert.match(
    html,
    /<span class="tick" style="left:[\d.]+%">\+60\.2 s<\/span>/,
    'ticks as fine as their step',
  );
});

test('the arbiter gone (killed): its workers end there, a hook still running never finished, nothing is under way', () => {
  const events: [number, EventBody][] = [
    [0, { type: 'worker.spawned', ...ref(1, 1) }],
    [100, { type: 'worker.state', ...ref(1, 1), state: 'draining', reason: 'stop' }],
    [150, { type: 'hook', scope: 'worker', pid: 101, name: 'drain', phase: 'start' }],
  ];
  const m = model(events);
  assert.equal(underway(m), true);
  m.arbiterGone('was killed by SIGKILL', 10_000 + 400);
  assert.equal(underway(m), false, 'the panel stops ticking');
  const [lane] = timelineOf(m, { kind: 'all' }, 10_000 + 9_000, 'shop').lanes;
  assert.deepEqual(
    lane!.hooks.map(({ outcome, to }) => [outcome, to - 10_000]),
    [['interrupted', 400]],
  );
  assert.deepEqual(
    lane!.states.map(({ state, to, open }) => [state, to - 10_000, open]),
    [
      ['booting', 100, false],
      ['draining', 400, false],
    ],
  );
});
