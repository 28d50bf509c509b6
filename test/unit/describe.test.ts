import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HookRow, WorkerRow } from '../../extension/model/server-model';
import type { HeldResources } from '../../runner/protocol/events';
import { serviceOfProgram } from '../../runner/proc/local-services';
import {
  duration,
  heldRows,
  requestRows,
  stackRows,
  hookDescription,
  reloadDescription,
  reloadLabel,
  workerDescription,
} from '../../extension/views/describe';

const worker = (extra: Partial<WorkerRow>): WorkerRow => ({
  id: 3,
  pid: 4321,
  generation: 2,
  state: 'ready',
  reason: 'listening',
  since: 0,
  spawnedAt: 0,
  states: [],
  signals: [],
  hooks: [],
  ...extra,
});

test('durations read as a person says them', () => {
  assert.equal(duration(950), '950 ms');
  assert.equal(duration(1234), '1.2 s');
  assert.equal(duration(12_400), '12 s');
  assert.equal(duration(125_000), '2 min 5 s');
  assert.equal(duration(3_780_000), '1 h 3 min');
});

test('a worker: uptime and counters while it serves, the countdown while it drains, the reason once gone', () => {
  assert.equal(
    workerDescription(worker({ served: 120, inflight: 2 }), 65_000),
    'ready · up 1 min 5 s · 120 served · 2 in flight',
  );
  assert.equal(
    workerDescription(worker({ state: 'draining', deadline: 30_000 }), 18_000),
    'draining · killed in 12 s if still running',
  );
  assert.equal(
    workerDescription(
      worker({
        state: 'killed',
        exit: { code: null, signal: 'SIGKILL', reason: 'graceful timeout (30 s) ran out', at: 1 },
      }),
      9,
    ),
    'killed · graceful timeout (30 s) ran out',
  );
});

test('a hook: running, ok, error, timed out, never finished', () => {
  const hook = (extra: Partial<HookRow>): HookRow => ({
    name: 'h',
    startedAt: 0,
    outcome: 'running',
    ...extra,
  });
  assert.equal(hookDescription(hook({}), 2500), 'running for 2.5 s');
  assert.equal(hookDescription(hook({ outcome: 'ok', durationMs: 12 }), 0), 'ok in 12 ms');
  assert.equal(
    hookDescription(hook({ outcome: 'error', durationMs: 3, error: 'ECONNRESET' }), 0),
    'failed after 3 ms: ECONNRESET',
  );
  assert.equal(hookDescription(hook({ outcome: 'timeout', durationMs: 5000 }), 0), 'timed out after 5.0 s');
  assert.equal(hookDescription(hook({ outcome: 'killed' }), 0), 'never finished: the worker was killed');
});

test('a reload: what started it, and how it went', () => {
  const reload = {
    generation: 4,
    trigger: 'file change',
    files: ['/p/src/a.js', '/p/b.js', '/p/c.js'],
    phase: 'failed' as const,
    startedAt: 0,
  };
  assert.equal(reloadLabel(reload, '/p'), 'generation 4 ← file change (src/a.js, b.js +1)');
  assert.equal(
    reloadDescription(
      { ...reload, error: { message: 'SyntaxError: Unexpected token', file: '/p/src/a.js', line: 7 } },
      0,
    ),
    'failed: SyntaxError: Unexpected token (a.js:7)',
  );
  assert.equal(reloadDescription({ ...reload, phase: 'completed', durationMs: 48 }, 0), 'live in 48 ms');
  assert.equal(
    reloadDescription(
      { ...reload, phase: 'completed', durationMs: 48, swap: { oldServed: 41, newServed: 12, cut: 0 } },
      0,
    ),
    'live in 48 ms · swap: old served 41, new 12, 0 cut ✓',
  );
  assert.equal(
    reloadDescription(
      { ...reload, phase: 'completed', durationMs: 48, swap: { oldServed: 3, newServed: 0, cut: 2 } },
      0,
    ),
    'live in 48 ms · swap: old served 3, new 0, 2 cut',
  );
  assert.equal(
    reloadDescription(
      {
        ...reload,
        phase: 'completed',
        durationMs: 48,
        firstResponse: { ms: 61.4, afterLiveMs: 13 },
        swap: { oldServed: 3, newServed: 9, cut: 0 },
      },
      0,
    ),
    'live in 48 ms · first answer 61 ms after the change · swap: old served 3, new 9, 0 cut ✓',
  );
  assert.equal(
    reloadDescription({ ...reload, phase: 'superseded', durationMs: 912 }, 0),
    'superseded by a newer change after 912 ms, before it served',
  );
  assert.equal(
    reloadDescription({ ...reload, phase: 'completed', durationMs: 48, env: ['API_KEY', 'DEBUG'] }, 0),
    'live in 48 ms · env: API_KEY, DEBUG',
  );
  assert.equal(
    reloadDescription({ ...reload, phase: 'completed', durationMs: 48, ready: 1, workers: 2 }, 0),
    'live in 48 ms with 1 of 2 ready',
  );
  assert.equal(
    reloadDescription({ ...reload, phase: 'completed', durationMs: 48, ready: 2, workers: 2 }, 0),
    'live in 48 ms',
  );
});

const held = (extra: Partial<HeldResources>): HeldResources => ({
  connections: [],
  listening: [],
  files: [],
  openFiles: 0,
  children: [],
  ...extra,
});

test('what a worker held, from its stop to its end: closed is ✓, left open is a leak, named by service', () => {
  const redis = { peer: '127.0.0.1:6379', service: 'Redis' };
  const pg = { peer: '127.0.0.1:5432', service: 'PostgreSQL' };
  const stop = held({
    connections: [
      { ...redis, count: 3 },
      { ...pg, count: 2 },
    ],
  });
  const table: [WorkerRow['held'], ReturnType<typeof heldRows>][] = [
    [undefined, []],
    [
      { stop },
      [
        { label: 'Redis 127.0.0.1:6379', description: '3 open as its stop began', leak: false },
        { label: 'PostgreSQL 127.0.0.1:5432', description: '2 open as its stop began', leak: false },
      ],
    ],
    [
      { stop, end: held({ connections: [{ ...pg, count: 2 }] }) },
      [
        { label: 'Redis 127.0.0.1:6379', description: '3 → 0 ✓', leak: false },
        { label: 'PostgreSQL 127.0.0.1:5432', description: '2 → 2: left open at exit', leak: true },
      ],
    ],
    [
      {
        stop: held({}),
        end: held({
          connections: [{ peer: '10.0.0.5:443', count: 1 }],
          children: [{ pid: 77, command: 'sleep 30' }],
          threads: [
            { name: 'flusher', daemon: false },
            { name: 'metrics', daemon: true },
          ],
        }),
        killed: true,
      },
      [
        {
          label: '1 connection to 10.0.0.5:443',
          description: 'held when killed (opened during the stop)',
          leak: true,
        },
        { label: 'child process 77 (sleep 30)', description: 'held when killed', leak: true },
        { label: 'thread flusher', description: 'held when killed', leak: true },
      ],
    ],
  ];
  for (const [given, rows] of table) assert.deepEqual(heldRows(worker({ held: given })), rows);
});

test('a local server on a port of its own is named by its program', () => {
  const table: [string, string | undefined][] = [
    ['redis-server 127.0.0.1:6380', 'Redis'],
    ['/usr/bin/redis-server *:6379', 'Redis'],
    ['/usr/lib/postgresql/15/bin/postgres -D /tmp/pg -p 5433', 'PostgreSQL'],
    ['/usr/sbin/mysqld --port=3307', 'MySQL'],
    ['mongod --port 27018', 'MongoDB'],
    ['memcached -p 11212', 'Memcached'],
    ['node server.js', undefined],
    ['python3 my_redis_client.py', undefined],
  ];
  for (const [command, service] of table) assert.equal(serviceOfProgram(command), service, command);
});

test('the requests a drain waits on age as time passes; those a kill cut say so; the rest are counted', () => {
  const requests = [
    { method: 'GET', path: '/export', ageMs: 12_000 },
    { method: 'POST', path: '/upload', ageMs: 400 },
  ];
  assert.deepEqual(requestRows(worker({}), 0), []);
  assert.deepEqual(
    requestRows(worker({ requests: { requests, total: 2, at: 10_000, cut: false } }), 11_000),
    [
      { label: 'GET /export', description: 'in flight for 13 s', cut: false },
      { label: 'POST /upload', description: 'in flight for 1.4 s', cut: false },
    ],
  );
  assert.deepEqual(
    requestRows(worker({ requests: { requests, total: 25, at: 10_000, cut: true } }), 99_000),
    [
      { label: 'GET /export', description: 'cut by the kill after 12 s', cut: true },
      { label: 'POST /upload', description: 'cut by the kill after 400 ms', cut: true },
      { label: '23 more request(s)', description: 'cut by the kill', cut: true },
    ],
  );
});

test('a completed reload with a boot profile says when the save went live and what it waited on', () => {
  const reload = {
    generation: 5,
    trigger: 'file change',
    phase: 'completed' as const,
    startedAt: 0,
    durationMs: 90,
  };
  const warm = {
    liveMs: 96.4,
    batchMs: 2,
    buildMs: 8,
    transformed: 1,
    process: { warm: true, ms: 1.2 },
    deps: { warm: true, modules: 412 },
    codeMs: 61,
    listenMs: 12,
    worker: 9,
  };
  assert.equal(
    reloadDescription({ ...reload, profile: warm }, 0),
    'live in 96 ms: batch 2 · build 8 (1 transformed) · standby 1 · deps warm (412 modules) · your code 61 · listen 12',
  );
  const cold = {
    liveMs: 300,
    process: { warm: false, ms: 45 },
    deps: { warm: false, modules: 80, ms: 120 },
    codeMs: 20,
    listenMs: 5,
  };
  assert.equal(
    reloadDescription({ ...reload, profile: cold, env: ['DEBUG'] }, 0),
    'live in 300 ms: process start 45 · deps 120 (80 modules) · your code 20 · listen 5 · env: DEBUG',
  );
  // ES modules: their third-party time is not told apart from the app's own.
  const esm = {
    liveMs: 600,
    process: { warm: true, ms: 2 },
    deps: { warm: false },
    codeMs: 580,
    listenMs: 0,
  };
  assert.equal(
    reloadDescription({ ...reload, profile: esm }, 0),
    'live in 600 ms: standby 2 · deps in your code · your code 580 · listen 0',
  );
});

test('what a stuck worker was doing: where it was stuck, the calls that led there; or why it is not known', () => {
  const threads = [
    {
      name: 'flusher',
      daemon: false,
      frames: [
        { file: '/usr/lib/python3.11/threading.py', line: 320, function: 'wait' },
        { file: '/srv/app/flusher.py', line: 12, function: 'run', source: 'while not self.cancelled:' },
        {
          file: '/usr/lib/python3.11/threading.py',
          line: 1038,
          function: '_bootstrap_inner',
          source: 'self.run()',
        },
      ],
    },
  ];
  const table: [WorkerRow['stacks'], string[]][] = [
    [undefined, []],
    [
      { ts: 0, at: 'stop-timeout', threads },
      [
        'stuck in flusher.py:12 `while not self.cancelled:` in run() (thread flusher) · when its stop timed out',
        '← threading.py:1038 in _bootstrap_inner — self.run() · ',
      ],
    ],
    [
      {
        ts: 0,
        at: 'heartbeat-timeout',
        threads: [],
        unavailable: 'no answer within 300 ms',
        lingering: ['Timeout'],
      },
      ['stack not read · when its heartbeat timed out'],
    ],
  ];
  for (const [stacks, expected] of table)
    assert.deepEqual(
      stackRows(worker({ stacks })).map((row) => `${row.label} · ${row.description}`),
      expected,
    );
  const [notRead] = stackRows(worker({ stacks: table[2]![0] }));
  assert.equal(notRead!.tooltip, 'no answer within 300 ms; kept alive by Timeout');
});
