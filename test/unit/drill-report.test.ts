/** The drill's verdict (runner/drill/drill-report.ts): runs in, problems out, as a table. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drillReport, type DrillRun, type StopKind } from '../../runner/drill/drill-report';
import type { ArbiterEvent, HeldResources } from '../../runner/protocol/events';

const ref = (id: number) => ({ v: 1 as const, ts: 0, id, pid: 100 + id, generation: 1 });
const nothing: HeldResources = { connections: [], listening: [], files: [], openFiles: 0, children: [] };
const pool: HeldResources = {
  ...nothing,
  connections: [{ peer: '127.0.0.1:6379', service: 'Redis', count: 3 }],
};
const resources = (id: number, at: 'stop' | 'exit' | 'kill', held: HeldResources): ArbiterEvent => ({
  ...ref(id),
  type: 'worker.resources',
  at,
  held,
});
const exited = (id: number, state: 'exited' | 'killed', reason: string): ArbiterEvent => ({
  ...ref(id),
  type: 'worker.exited',
  state,
  code: state === 'exited' ? 0 : null,
  signal: state === 'exited' ? null : 'SIGKILL',
  reason,
});
const cut = (id: number, total: number): ArbiterEvent => ({
  ...ref(id),
  type: 'worker.requests',
  at: 'cut',
  requests: [],
  total,
});
const run = (stop: StopKind, events: ArbiterEvent[], failed: DrillRun['load']['failed'] = []): DrillRun => ({
  stop,
  events,
  load: { sent: 10, ok: 10 - failed.length, failed, keptAlive: 5, retried: 1 },
  exitCode: 0,
  durationMs: 1000,
  timedOut: false,
});

const cases: [string, DrillRun[], string[]][] = [
  ['a clean run passes', [run('graceful', [resources(1, 'exit', nothing), exited(1, 'exited', 'stop')])], []],
  [
    'a pool left open by every worker of every run is one problem naming the workers',
    [
      run('graceful', [resources(1, 'stop', pool), resources(1, 'exit', pool), resources(2, 'exit', pool)]),
      run('ctrl-c', [resources(3, 'exit', pool)]),
    ],
    ['workers 1, 2, 3 left open at exit: 3 connections to Redis 127.0.0.1:6379'],
  ],
  [
    'more than five workers: five named, the rest counted',
    [
      run(
        'graceful',
        [1, 2, 3, 4, 5, 6, 7].map((id) => resources(id, 'exit', pool)),
      ),
    ],
    ['workers 1, 2, 3, 4, 5 and 2 more left open at exit: 3 connections to Redis 127.0.0.1:6379'],
  ],
  [
    'what a stop began with is not a leak',
    [run('graceful', [resources(1, 'stop', pool), resources(1, 'exit', nothing)])],
    [],
  ],
  [
    'a kill at the deadline is a problem, except in the quick stop',
    [
      run('graceful', [exited(1, 'killed', 'graceful timeout')]),
      run('quick', [exited(2, 'killed', 'quick timeout')]),
    ],
    ['worker 1 (generation 1): graceful timeout'],
  ],
  [
    'requests cut by a kill count, except what a quick stop cuts',
    [run('graceful', [cut(1, 2)]), run('quick', [cut(2, 5)])],
    ['2 request(s) cut by a kill (the graceful stop (SIGTERM) run)'],
  ],
  [
    'a failure before the stop is lost; one once the stop was given is not',
    [
      run(
        'graceful',
        [],
        [
          { during: 'reload 1', error: 'ECONNRESET' },
          { during: 'graceful stop (SIGTERM)', error: 'ECONNREFUSED' },
        ],
      ),
    ],
    ['a request failed during reload 1: ECONNRESET'],
  ],
];

for (const [name, runs, problems] of cases)
  test(`drill verdict: ${name}`, () => {
    assert.deepEqual(drillReport(runs, { seed: 1, durationMs: 1 }).problems, problems);
  });
