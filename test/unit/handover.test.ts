/** The cycle's swap (generations/handover.ts): the new generation is cued only once no old worker accepts. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { Handover } from '../../runner/arbiter/generations/handover';

beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
afterEach(() => mock.timers.reset());

type Fake = {
  name: string;
  generation: number;
  whenClosed: Promise<void>;
  whenExited: Promise<void>;
  close: () => void;
  exit: () => void;
};

function worker(name: string, generation: number): Fake {
  let close!: () => void;
  let exit!: () => void;
  const whenExited = new Promise<void>((resolve) => (exit = resolve));
  const whenClosed = new Promise<void>((resolve) => (close = resolve));
  void whenExited.then(close); // as WorkerProcess: gone is closed too
  return { name, generation, whenClosed, whenExited, close, exit };
}

function handover() {
  const log: string[] = [];
  const parts = new Handover<Fake>({
    closeConfirmMs: 1000,
    stop: (w) => log.push(`stop ${w.name}`),
    kill: (w) => log.push(`kill ${w.name}`),
    cue: (w) => log.push(`cue ${w.name}`),
  });
  return { parts, log };
}

/** Lets every settled promise run its callbacks. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test('held while it boots beside the old generation; released when it will not serve', () => {
  const { parts } = handover();
  assert.equal(parts.holds(2), false);
  parts.hold(2);
  assert.deepEqual([parts.holds(2), parts.holds(3)], [true, false]);
  parts.release(3);
  assert.equal(parts.holds(2), true, 'another generation releases nothing');
  parts.release(2);
  assert.equal(parts.holds(2), false);
});

test('the new generation is cued only once every old worker said closed', async () => {
  const { parts, log } = handover();
  const [a, b] = [worker('a', 1), worker('b', 1)];
  const [c, d] = [worker('c', 2), worker('d', 2)];
  parts.hold(2);
  let done = false;
  const swap = parts.swap(2, [a, b], () => [c, d], 'reload').then(() => (done = true));
  assert.deepEqual(log, ['stop a', 'stop b']);
  a.close();
  await settle();
  assert.deepEqual([log.length, done], [2, false], 'b still accepts: no cue yet');
  b.exit(); // gone counts as closed
  assert.deepEqual(await swap.then(() => log), ['stop a', 'stop b', 'cue c', 'cue d']);
  assert.equal(parts.holds(2), false, 'workers started from now on accept at once');
});

test('an old worker that cannot say closed in time is killed, and the cue waits for its exit', async () => {
  const { parts, log } = handover();
  const [a, frozen] = [worker('a', 1), worker('frozen', 1)];
  parts.hold(2);
  let killed: Fake[] | undefined;
  const swap = parts.swap(2, [a, frozen], () => [worker('c', 2)], 'reload').then((k) => (killed = k));
  a.close();
  await settle();
  mock.timers.tick(999);
  await settle();
  assert.deepEqual(log, ['stop a', 'stop frozen']);
  mock.timers.tick(1);
  await settle();
  assert.deepEqual(log.slice(2), ['kill frozen'], 'killed, not cued yet: it may still hold the socket');
  frozen.exit();
  await swap;
  assert.deepEqual(log.slice(3), ['cue c']);
  assert.deepEqual(killed, [frozen]);
});

test('no old generation (replace mode, a first boot): nothing to stop, and nothing held is not cued', async () => {
  const { parts, log } = handover();
  assert.deepEqual(await parts.swap(2, [], () => [worker('c', 2)], 'reload'), []);
  assert.deepEqual(log, [], 'not held: its workers accept at once already');
  parts.hold(3);
  await parts.swap(3, [], () => [worker('d', 3)], 'reload');
  assert.deepEqual(log, ['cue d']);
});
