import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSettings } from '../../runner/config/settings';
import { parseArbiterMessage } from '../../runner/protocol/control';
import type { ErrorInfo, WorkerState } from '../../runner/protocol/events';
import { BootingGeneration, type BootResult } from '../../runner/arbiter/generations/booting-generation';
import { bootMessage, type BootFacts } from '../../runner/arbiter/workers/boot-message';
import { WorkerSet, type SetMember } from '../../runner/arbiter/workers/worker-set';

const FACTS: BootFacts = {
  id: 3,
  generation: 2,
  app: '/srv/app.js',
  sourceMaps: false,
  port: '8000',
  sockets: 2,
  env: {},
  jitter: 0.5,
};

test('the boot message says what the settings say, and is one the protocol accepts', () => {
  const settings = {
    ...defaultSettings(),
    timeout: 30,
    maxRequests: 100,
    maxRequestsJitter: 9,
    longLivedGrace: 1.5,
  };
  const message = bootMessage(FACTS, settings);
  assert.deepEqual(message, {
    type: 'boot',
    id: 3,
    generation: 2,
    app: '/srv/app.js',
    sourceMaps: false,
    longLivedGraceMs: 1500,
    port: '8000',
    listenFds: [4, 5],
    maxRequests: 105, // floor(0.5 × (9 + 1)) of jitter
    heartbeatMs: 7500, // four beats per timeout
  });
  assert.ok(parseArbiterMessage(JSON.stringify(message)).ok, 'valid on the wire');
  const none = bootMessage(
    { ...FACTS, env: { A: '1' }, check: ['/srv/x.py'] },
    { ...settings, timeout: 0, maxRequests: 0 },
  );
  assert.equal(none.heartbeatMs, 0, 'no timeout, no beats');
  assert.equal(none.maxRequests, 0, 'no max-requests, no jitter either');
  assert.deepEqual(none.env, { A: '1' });
  assert.deepEqual(none.check, ['/srv/x.py']);
});

test('a Python boot message carries only what was set; the runtime decides the rest', () => {
  const settings = defaultSettings();
  assert.deepEqual(bootMessage({ ...FACTS, python: {} }, settings).python, {});
  const chosen = { ...settings, interface: 'asgi', workerClass: 'gevent', threads: 4 } as const;
  assert.deepEqual(
    bootMessage({ ...FACTS, python: { gunicornConfig: '/srv/gunicorn.conf.py' } }, chosen).python,
    {
      interface: 'asgi',
      workerClass: 'gevent',
      threads: 4,
      config: '/srv/gunicorn.conf.py',
    },
  );
});

type Member = { -readonly [K in keyof SetMember]: SetMember[K] };
const member = (id: number, generation: number, state: WorkerState, more: Partial<Member> = {}): Member => ({
  id,
  pid: 100 + id,
  generation,
  spawnedAt: id,
  state,
  exited: false,
  retiring: undefined,
  ...more,
});

test('the worker set: live, serving, by generation and pid; the oldest are retired first', () => {
  const set = new WorkerSet<Member>();
  assert.deepEqual([set.nextId(), set.nextId()], [1, 2]);
  const workers = [
    member(1, 1, 'ready'),
    member(2, 1, 'ready', { retiring: 'max requests' }),
    member(3, 2, 'booting'),
    member(4, 1, 'draining'),
    member(5, 1, 'crashed', { exited: true }),
  ];
  workers.forEach((worker) => set.add(worker));
  assert.deepEqual(ids(set.live()), [1, 2, 3]);
  assert.deepEqual(ids(set.serving(1)), [1], 'a retiring worker does not count');
  assert.deepEqual(ids(set.ofGeneration(1)), [1, 2, 4], 'every running process of it');
  assert.equal(set.running(104)?.id, 4);
  assert.equal(set.running(105), undefined, 'an exited process is no one');
  assert.deepEqual([...set.generations()].sort(), [1, 2]);
  assert.deepEqual(ids(WorkerSet.oldest([workers[2]!, workers[0]!, workers[1]!], 2)), [1, 2]);
  assert.deepEqual(WorkerSet.oldest(workers, -1), []);
  set.delete(workers[4]!);
  assert.equal(set.size, 4);
  assert.equal(set.nextId(), 3, 'ids are never reused');
});

const ids = (workers: readonly { id: number }[]) => workers.map((worker) => worker.id);

type Booting = {
  id: number;
  state: WorkerState;
  exited: boolean;
  readyAt: number | undefined;
  stderrTail: string[];
  bootError: ErrorInfo | undefined;
  bootErrorReported: boolean;
};
const booting = (id: number): Booting => ({
  id,
  state: 'booting',
  exited: false,
  readyAt: undefined,
  stderrTail: [],
  bootError: undefined,
  bootErrorReported: false,
});

function generation(wanted: number, liveAt: 'first' | 'all' = 'first') {
  const killed: number[][] = [];
  const alone: string[] = [];
  const gen = new BootingGeneration<Booting>(7, {
    wanted,
    liveAt,
    onFailed: (live) => killed.push(ids(live)),
    onAnotherCopy: (said) => alone.push(said),
  });
  let result: BootResult | undefined;
  void gen.result.then((r) => (result = r));
  return { gen, killed, alone, result: async () => (await gen.result, result) };
}

test('a generation is live at its first ready worker; none wanted is live at once', async () => {
  const { gen, result } = generation(2);
  const [a, b] = [booting(1), booting(2)];
  gen.add(a);
  gen.add(b);
  Object.assign(a, { state: 'ready', readyAt: 1 });
  gen.ready(a);
  assert.equal(gen.settled, true);
  assert.deepEqual(await result(), { ok: true });
  assert.equal(gen.has(b), false, 'done with once settled: the rest join the live generation');
  assert.deepEqual(await generation(0).gen.result, { ok: true });
});

test('the first generation is live once all its workers are; one ready and gone while a sibling boots fails it', async () => {
  const { gen, result } = generation(2, 'all');
  const [a, b] = [booting(1), booting(2)];
  gen.add(a);
  gen.add(b);
  Object.assign(a, { state: 'ready', readyAt: 1 });
  gen.ready(a);
  assert.equal(gen.settled, false);
  Object.assign(b, { state: 'ready', readyAt: 2 });
  gen.ready(b);
  assert.deepEqual(await result(), { ok: true });

  const crashed = generation(2, 'all');
  const [c, d] = [booting(3), booting(4)];
  crashed.gen.add(c);
  crashed.gen.add(d);
  Object.assign(c, { state: 'ready', readyAt: 5 });
  crashed.gen.ready(c);
  Object.assign(c, { state: 'crashed', exited: true });
  crashed.gen.exited(c, 'ready', 1, null);
  const failed = await crashed.result();
  assert.match(failed?.ok === false ? failed.error.message : '', /crashed after it was ready/);
  assert.deepEqual(crashed.killed, [[4]]);
});

test('a worker that exits before it is ready fails the generation, which kills the rest; the first failure stands', async () => {
  const { gen, killed, result } = generation(2);
  const [a, b] = [booting(1), booting(2)];
  gen.add(a);
  gen.add(b);
  Object.assign(a, { exited: true, stderrTail: ['Error: no such module'] });
  gen.exited(a, 'booting', 1, null);
  gen.abort({ message: 'stopped' });
  const failed = await result();
  assert.equal(failed?.ok, false);
  assert.match(
    failed?.ok === false ? failed.error.message : '',
    /worker 1 exited before it was ready.*no such module/s,
  );
  assert.deepEqual(killed, [[2]], 'the live sibling is killed, once');
});

test('a later worker that fails once the generation is live fails nothing: it is a worker boot failure', async () => {
  const { gen, killed, alone, result } = generation(2);
  const [a, b] = [booting(1), booting(2)];
  gen.add(a);
  gen.add(b);
  Object.assign(a, { state: 'ready', readyAt: 1 });
  gen.ready(a);
  Object.assign(b, { state: 'boot-failed', exited: true, stderrTail: ['Error: no such module'] });
  gen.exited(b, 'booting', 1, null);
  assert.deepEqual(await result(), { ok: true });
  assert.deepEqual([killed, alone], [[], []]);
});

test('a copy that cannot run beside its sibling makes the generation smaller, not failed', async () => {
  const { gen, alone, result } = generation(2);
  const [a, b] = [booting(1), booting(2)];
  gen.add(a);
  gen.add(b);
  Object.assign(a, { state: 'ready', readyAt: 1 });
  gen.ready(a);
  Object.assign(b, {
    exited: true,
    stderrTail: ['Error: listen EADDRINUSE: address already in use :::3001'],
  });
  gen.exited(b, 'booting', 1, null);
  assert.deepEqual(await result(), { ok: true });
  assert.equal(alone.length, 1);
});

test('a stop aborts the boot: the error is the stop, and its live workers are killed', async () => {
  const { gen, killed, result } = generation(1);
  const a = booting(1);
  gen.add(a);
  gen.abort({ message: 'stopped (Ctrl+C)' });
  gen.exited(a, 'draining', 0, null);
  assert.deepEqual(await result(), { ok: false, error: { message: 'stopped (Ctrl+C)' } });
  assert.deepEqual(killed, [[1]]);
});
