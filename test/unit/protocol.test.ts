import assert from 'node:assert/strict';
import { parseCommand } from '../../runner/protocol/commands';
import { test } from 'node:test';
import {
  CONTROL_FD,
  parseArbiterMessage,
  parseWorkerMessage,
  type ArbiterMessage,
  type WorkerMessage,
} from '../../runner/protocol/control';
import {
  EVENT_PROTOCOL_VERSION,
  HOOK_OUTCOMES,
  parseEvent,
  WORKER_STATES,
  type ArbiterEvent,
} from '../../runner/protocol/events';
import type { ParseResult } from '../../runner/protocol/parse-line';
import * as s from '../../runner/protocol/schema';

const envelope = { v: EVENT_PROTOCOL_VERSION, ts: 1_700_000_000_000 };
const worker = { id: 1, pid: 4242, generation: 2 };

/** One valid event of every type. */
const EVENTS: ArbiterEvent[] = [
  {
    ...envelope,
    type: 'arbiter.started',
    pid: 100,
    listeners: [{ host: '127.0.0.1', port: 8000 }, { path: '/tmp/app.sock' }],
    config: {
      app: '/srv/app.js',
      workers: 2,
      gracefulTimeout: 30,
      timeout: 30,
      bootTimeout: 30,
      maxRequests: 0,
    },
  },
  { ...envelope, type: 'worker.spawned', ...worker },
  { ...envelope, type: 'worker.state', ...worker, state: 'draining', reason: 'reload', deadline: 1 },
  {
    ...envelope,
    type: 'worker.exited',
    ...worker,
    code: null,
    signal: 'SIGKILL',
    state: 'killed',
    reason: 'graceful timeout',
  },
  { ...envelope, type: 'worker.stats', ...worker, served: 10, inflight: 1 },
  { ...envelope, type: 'worker.lingering', ...worker, resources: ['Timeout', 'TCPSocket'] },
  {
    ...envelope,
    type: 'worker.resources',
    ...worker,
    at: 'exit',
    held: {
      connections: [{ peer: '127.0.0.1:6379', service: 'Redis', count: 3 }],
      listening: [],
      files: ['/srv/app/app.log'],
      openFiles: 1,
      children: [{ pid: 99, command: 'sleep 30' }],
      threads: [{ name: 'flusher', daemon: false }],
    },
  },
  {
    ...envelope,
    type: 'worker.requests',
    ...worker,
    at: 'draining',
    requests: [{ method: 'GET', path: '/export', ageMs: 12_000 }],
    total: 1,
  },
  { ...envelope, type: 'worker.inspector', ...worker, url: 'ws://127.0.0.1:40123/0f2c', port: 40123 },
  { ...envelope, type: 'worker.inspector', ...worker, error: 'Inspector is not available' },
  { ...envelope, type: 'worker.paused', ...worker, paused: true },
  {
    ...envelope,
    type: 'signal',
    direction: 'received',
    signal: 'SIGHUP',
    pid: 100,
    reason: 'from the shell',
  },
  {
    ...envelope,
    type: 'hook',
    scope: 'worker',
    pid: 4242,
    id: 1,
    generation: 2,
    name: 'closePool',
    phase: 'end',
    outcome: 'error',
    durationMs: 12.5,
    error: 'pool already closed',
  },
  {
    ...envelope,
    type: 'reload',
    phase: 'failed',
    generation: 3,
    trigger: 'file change',
    files: ['src/app.ts'],
    error: { message: 'SyntaxError: x', file: '/srv/app.js', line: 3, column: 7 },
  },
  {
    ...envelope,
    type: 'reload.swap',
    generation: 3,
    oldWorkers: 2,
    oldServed: 4,
    newServed: 12,
    cut: 0,
    durationMs: 1520,
  },
  { ...envelope, type: 'reload.first-response', generation: 3, worker: 5, ms: 61.4, afterLiveMs: 13 },
  { ...envelope, type: 'arbiter.workers', count: 3, reason: 'TTIN' },
  { ...envelope, type: 'standby', pid: 55, phase: 'started' },
  { ...envelope, type: 'standby', pid: 55, phase: 'preloaded', modules: 412, ms: 180.5 },
  { ...envelope, type: 'standby', pid: 55, phase: 'ended', reason: 'killed by SIGKILL' },
  { ...envelope, type: 'worker.deps', ...worker, warm: true, modules: 412, ms: 180.5 },
  {
    ...envelope,
    type: 'worker.deps',
    ...worker,
    warm: false,
    modules: 0,
    reason: 'package-lock.json changed',
  },
  { ...envelope, type: 'watcher.ready', root: '/srv', files: 120, folders: 9, durationMs: 31 },
  {
    ...envelope,
    type: 'watcher.ignored',
    file: '/srv/db.sqlite3',
    reason: 'a SQLite database: data, not source',
  },
  {
    ...envelope,
    type: 'events.gap',
    dropped: 12,
    since: 1_699_999_999_000,
    reason: 'its reader is 4 MiB behind',
  },
  { ...envelope, type: 'arbiter.exited', code: 0, reason: 'graceful stop' },
  {
    ...envelope,
    type: 'worker.stacks',
    ...worker,
    at: 'stop-timeout',
    threads: [
      {
        name: 'flusher',
        daemon: false,
        frames: [
          { file: '/srv/app/flusher.py', line: 12, function: 'run', source: 'while not self.cancelled:' },
        ],
      },
    ],
  },
  {
    ...envelope,
    type: 'worker.stacks',
    ...worker,
    at: 'heartbeat-timeout',
    threads: [],
    unavailable: 'no answer within 300 ms, and no stall report from its runtime',
    lingering: ['Timeout'],
  },
];

function ok<T>(result: ParseResult<T>): T {
  assert.ok(result.ok, `expected the line to parse, got: ${result.ok ? '' : result.error}`);
  return result.value;
}

function error<T>(result: ParseResult<T>): string {
  assert.ok(!result.ok, `expected the line to be refused, got ${JSON.stringify(result)}`);
  return result.error;
}

void test('every event type parses back to what was written', () => {
  for (const event of EVENTS) assert.deepEqual(ok(parseEvent(JSON.stringify(event))), event, event.type);
});

void test('the sample covers every event type the schema knows', () => {
  const message = error(parseEvent(JSON.stringify({ ...envelope, type: 'nope' })));
  const known = /expected one of (.*), got/.exec(message)?.[1]?.split(', ');
  assert.deepEqual(known?.sort(), [...new Set(EVENTS.map((event) => event.type))].sort());
});

void test('unknown fields are kept, on the event and in nested objects', () => {
  const line = JSON.stringify({
    ...EVENTS[0],
    extra: { anything: [1, 2] },
    config: { ...(EVENTS[0] as { config: object }).config, future: true },
  });
  const value = ok(parseEvent(line)) as Record<string, unknown>;
  assert.deepEqual(value.extra, { anything: [1, 2] });
  assert.equal((value.config as Record<string, unknown>).future, true);
});

void test('optional fields may be absent', () => {
  const value = ok(
    parseEvent(
      JSON.stringify({ ...envelope, type: 'worker.state', ...worker, state: 'ready', reason: 'listening' }),
    ),
  );
  assert.ok(value.type === 'worker.state');
  assert.equal(value.deadline, undefined);
  assert.ok(!('deadline' in value));
});

void test('a line that is not JSON is refused as "not JSON"', () => {
  for (const line of ['', 'hello', '{"type":', "{'type':'signal'}", '{"a":1}{"b":2}']) {
    assert.match(error(parseEvent(line)), /^not JSON: /, JSON.stringify(line));
    assert.match(error(parseWorkerMessage(line)), /^not JSON: /, JSON.stringify(line));
    assert.match(error(parseArbiterMessage(line)), /^not JSON: /, JSON.stringify(line));
  }
});

void test('an unknown or missing type is refused, naming the allowed types', () => {
  const table: [line: string, got: string][] = [
    [JSON.stringify({ ...envelope, type: 'worker.exploded' }), "got 'worker.exploded'"],
    [JSON.stringify({ ...envelope }), 'got undefined'],
    [JSON.stringify({ ...envelope, type: 7 }), 'got number'],
    ['null', 'got undefined'],
    ['[1,2]', 'got undefined'],
    ['"arbiter.started"', 'got undefined'],
  ];
  for (const [line, got] of table) {
    const message = error(parseEvent(line));
    assert.ok(message.startsWith('type: expected one of arbiter.started, worker.spawned, '), message);
    assert.ok(message.includes('arbiter.exited'), message);
    assert.ok(message.endsWith(got), `${message} ends with ${got}`);
  }
});

void test('a field of the wrong type is refused, naming its path and what was expected', () => {
  const [started, spawned, state, exited, , lingering, , , , , , , hook, reload] = EVENTS as Record<
    string,
    unknown
  >[];
  const table: [event: unknown, expected: string][] = [
    [{ ...spawned, pid: '4242' }, "pid: expected a whole number from 1, got '4242'"],
    [{ ...spawned, id: 0 }, 'id: expected a whole number from 1, got number'],
    [{ ...spawned, v: 1.5 }, 'v: expected a whole number, got number'],
    [{ ...spawned, ts: 'now' }, "ts: expected a number, got 'now'"],
    [{ ...spawned, generation: undefined }, 'generation: expected a whole number from 1, got undefined'],
    [{ ...state, state: 'sleeping' }, `state: expected one of ${WORKER_STATES.join(', ')}, got 'sleeping'`],
    [{ ...exited, code: '1' }, "code: expected a whole number, got '1'"],
    [{ ...exited, signal: 9 }, 'signal: expected a string, got number'],
    [{ ...lingering, resources: ['Timeout', 3] }, 'resources[1]: expected a string, got number'],
    [{ ...lingering, resources: 'Timeout' }, "resources: expected an array, got 'Timeout'"],
    [{ ...hook, outcome: 'meh' }, `outcome: expected one of ${HOOK_OUTCOMES.join(', ')}, got 'meh'`],
    [
      { ...reload, error: { message: 'x', line: 'three' } },
      "error.line: expected a whole number, got 'three'",
    ],
    [{ ...reload, error: 'boom' }, "error: expected an object, got 'boom'"],
    [
      { ...started, config: { ...(started!.config as object), workers: null } },
      'config.workers: expected a whole number, got null',
    ],
  ];
  for (const [event, expected] of table) assert.equal(error(parseEvent(JSON.stringify(event))), expected);
});

void test('a listener must be TCP (host, port 0-65535) or a path; the error names both options', () => {
  const started = EVENTS[0] as Record<string, unknown>;
  const message = error(
    parseEvent(JSON.stringify({ ...started, listeners: [{ host: '::1', port: 70000 }] })),
  );
  assert.equal(
    message,
    'listeners[0].port: expected a whole number from 0 to 65535, got number; or listeners[0].path: expected a string, got undefined',
  );
});

void test('worker messages: valid lines parse, unknown fields are kept', () => {
  const messages: WorkerMessage[] = [
    { type: 'ready' },
    { type: 'heartbeat', served: 3, inflight: 0 },
    { type: 'boot-error', error: { message: 'Error: boom', file: '/srv/app.js', line: 2, column: 7 } },
    { type: 'fatal', error: { message: 'TypeError: x', stack: 'TypeError: x\n    at f (/srv/a.js:1:1)' } },
    { type: 'hook', run: 1, name: 'SIGTERM handler', phase: 'start' },
    { type: 'hook', run: 1, name: 'SIGTERM handler', phase: 'end', outcome: 'ok', durationMs: 3 },
    { type: 'stopping', mode: 'quick' },
    { type: 'retire', reason: 'served 100 requests (max-requests)' },
    { type: 'lingering', resources: ['Timeout'] },
    {
      type: 'stacks',
      threads: [{ name: 'main', main: true, frames: [{ file: '/srv/app.js', line: 29, function: '' }] }],
      stalledMs: 1200,
    },
    { type: 'stacks', threads: [], unavailable: 'its main thread is idle' },
    { type: 'notice', level: 'warn', message: 'listened on port 3999, not on PORT' },
    { type: 'dependencies', modules: ['/srv/node_modules/express/index.js', 'django.db'] },
    {
      type: 'preloaded',
      loaded: 411,
      ms: 180.5,
      failed: [{ module: '/srv/node_modules/x/a.js', error: 'Error: no' }],
    },
  ];
  for (const message of messages) assert.deepEqual(ok(parseWorkerMessage(JSON.stringify(message))), message);
  assert.deepEqual(ok(parseWorkerMessage('{"type":"ready","runtime":"python"}')), {
    type: 'ready',
    runtime: 'python',
  });
});

void test('worker messages: bad lines are refused with the type list or the field path', () => {
  const table: [line: string, expected: string][] = [
    [
      '{"type":"boot"}',
      "type: expected one of ready, heartbeat, first-response, boot-error, fatal, hook, stopping, closed, retire, lingering, resources, requests, notice, inspector, dependencies, preloaded, stacks, got 'boot'",
    ],
    ['{"type":"heartbeat","served":-1,"inflight":0}', 'served: expected a whole number from 0, got number'],
    ['{"type":"heartbeat","served":1}', 'inflight: expected a whole number from 0, got undefined'],
    [
      '{"type":"boot-error","error":{"message":"x","column":"7"}}',
      "error.column: expected a whole number, got '7'",
    ],
    ['{"type":"boot-error"}', 'error: expected an object, got undefined'],
    [
      '{"type":"hook","run":1,"name":"h","phase":"middle"}',
      "phase: expected one of start, end, got 'middle'",
    ],
    ['{"type":"notice","level":"debug","message":"m"}', "level: expected one of info, warn, got 'debug'"],
    ['{"type":"lingering","resources":[null]}', 'resources[0]: expected a string, got null'],
  ];
  for (const [line, expected] of table) assert.equal(error(parseWorkerMessage(line)), expected, line);
});

void test('arbiter messages: valid lines parse; a worker message is not an arbiter message', () => {
  const messages: ArbiterMessage[] = [
    {
      type: 'boot',
      id: 1,
      generation: 1,
      app: '/srv/app.js',
      port: '8000',
      listenFds: [4, 5],
      maxRequests: 0,
      heartbeatMs: 1000,
      acceptOnCue: true,
    },
    { type: 'stop', mode: 'graceful', reason: 'reload' },
    { type: 'stop', mode: 'quick', reason: 'QUIT' },
    { type: 'reopen-logs' },
    { type: 'stacks' },
    { type: 'accept' },
    {
      type: 'preload',
      modules: ['/srv/node_modules/express/index.js'],
      env: { DATABASE_URL: 'postgres://db' },
    },
  ];
  for (const message of messages) assert.deepEqual(ok(parseArbiterMessage(JSON.stringify(message))), message);
  assert.equal(
    error(parseArbiterMessage('{"type":"ready"}')),
    "type: expected one of boot, stop, reopen-logs, inspect, accept, preload, stacks, got 'ready'",
  );
  assert.equal(
    error(parseArbiterMessage('{"type":"stop","mode":"sideways","reason":"r"}')),
    "mode: expected one of graceful, quick, got 'sideways'",
  );
  assert.equal(
    error(
      parseArbiterMessage(
        '{"type":"boot","id":1,"generation":1,"app":"a","port":"1","listenFds":[4,"5"],"maxRequests":0,"heartbeatMs":0}',
      ),
    ),
    "listenFds[1]: expected a whole number, got '5'",
  );
  assert.equal(CONTROL_FD, 3);
});

void test('schema: scalars', () => {
  assert.equal(s.string().parse('a'), 'a');
  assert.throws(() => s.string().parse(1, 'x'), {
    name: 'SchemaError',
    message: 'x: expected a string, got number',
  });
  assert.equal(s.number().parse(1.5), 1.5);
  assert.throws(() => s.number().parse(NaN), /message: expected a number, got number/);
  assert.throws(() => s.number().parse(Infinity), /expected a number/);
  assert.equal(s.integer().parse(-3), -3);
  assert.throws(() => s.integer().parse(1.5), /expected a whole number, got number/);
  assert.equal(s.integer(0, 10).parse(10), 10);
  assert.throws(() => s.integer(0, 10).parse(11), /expected a whole number from 0 to 10/);
  assert.throws(() => s.integer(1).parse(0), /expected a whole number from 1, got number/);
  assert.equal(s.boolean().parse(false), false);
  assert.throws(() => s.boolean().parse('true'), /expected true or false, got 'true'/);
  assert.equal(s.literal('x').parse('x'), 'x');
  assert.throws(() => s.literal('x').parse('y', 'kind'), /^SchemaError: kind: expected 'x', got 'y'$/);
  assert.equal(s.oneOf(['a', 'b']).parse('b'), 'b');
  assert.throws(() => s.oneOf(['a', 'b']).parse('c'), /expected one of a, b, got 'c'/);
});

void test('schema: a long string value is cut in the error message', () => {
  assert.throws(() => s.integer().parse('x'.repeat(100), 'n'), {
    message: `n: expected a whole number, got '${'x'.repeat(40)}'`,
  });
});

void test('schema: containers, optional, nullable, union', () => {
  assert.deepEqual(s.array(s.integer()).parse([1, 2]), [1, 2]);
  assert.throws(
    () => s.array(s.integer()).parse([1, 'a'], 'list'),
    /^SchemaError: list\[1\]: expected a whole number/,
  );
  assert.throws(() => s.array(s.integer()).parse({}), /expected an array, got object/);
  assert.equal(s.optional(s.string()).parse(undefined), undefined);
  assert.throws(() => s.optional(s.string()).parse(null, 'o'), /o: expected a string, got null/);
  assert.equal(s.nullable(s.string()).parse(null), null);
  assert.throws(() => s.nullable(s.string()).parse(undefined, 'n'), /n: expected a string, got undefined/);
  const shape = s.object({ a: s.integer(), b: s.optional(s.object({ c: s.string() })) });
  assert.deepEqual(shape.parse({ a: 1, z: 'kept' }), { a: 1, z: 'kept' });
  assert.deepEqual(shape.parse({ a: 1, b: { c: 'x', d: 2 } }), { a: 1, b: { c: 'x', d: 2 } });
  assert.throws(
    () => shape.parse({ a: 1, b: { c: 1 } }),
    /^SchemaError: b\.c: expected a string, got number$/,
  );
  assert.throws(() => shape.parse([]), /^SchemaError: message: expected an object, got an array$/);
  assert.throws(() => shape.parse(null), /expected an object, got null/);
  const input = { a: 1 };
  assert.notEqual(shape.parse(input), input, 'a copy, not the input');
  const either = s.union(s.object({ n: s.integer() }), s.object({ t: s.string() }));
  assert.deepEqual(either.parse({ t: 'x' }), { t: 'x' });
  assert.throws(
    () => either.parse({}),
    /^SchemaError: n: expected a whole number, got undefined; or t: expected a string, got undefined$/,
  );
});

void test('schema: a tagged union reports only the failing option', () => {
  const tagged = s.tagged([
    s.object({ type: s.literal('a'), x: s.integer() }),
    s.object({ type: s.literal('b'), y: s.string() }),
  ]);
  assert.deepEqual(tagged.parse({ type: 'b', y: 'ok' }), { type: 'b', y: 'ok' });
  assert.throws(
    () => tagged.parse({ type: 'a', y: 'ok' }),
    /^SchemaError: x: expected a whole number, got undefined$/,
  );
  assert.throws(() => tagged.parse({ type: 'c' }), /^SchemaError: type: expected one of a, b, got 'c'$/);
  assert.throws(() => tagged.parse({ type: 'toString' }), /expected one of a, b, got 'toString'/);
  assert.throws(
    () => s.array(tagged).parse([{ type: 'a', x: 1 }, { type: 'z' }]),
    /^SchemaError: \[1\]\.type: expected one of a, b/,
  );
});

test('commands on stdin: valid lines parse; bad ones are refused with the field and what was expected', () => {
  assert.deepEqual(parseCommand('{"type":"inspect"}'), { ok: true, value: { type: 'inspect' } });
  assert.deepEqual(parseCommand('{"type":"debugger","pid":42,"paused":true}'), {
    ok: true,
    value: { type: 'debugger', pid: 42, paused: true },
  });
  const refused = (line: string) => {
    const parsed = parseCommand(line);
    assert.equal(parsed.ok, false, line);
    return parsed.ok ? '' : parsed.error;
  };
  assert.match(refused('{"type":"signal-worker","pid":0,"signal":"SIGKILL"}'), /^pid: /);
  assert.match(
    refused('{"type":"signal-worker","pid":5,"signal":"SIGSTOP"}'),
    /^signal: expected one of SIGTERM/,
  );
  assert.match(refused('{"type":"debugger","pid":5}'), /^paused: /);
  assert.match(
    refused('{"type":"reboot"}'),
    /^type: expected one of signal-worker, kill-generation, inspect, debugger/,
  );
  assert.match(refused('not json'), /^not JSON/);
});
