import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HookRow, WorkerRow } from '../../extension/model/server-model';
import {
  duration,
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
