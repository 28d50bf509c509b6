/**
 * The event stream never blocks the arbiter and never lies about what it lost: followers that
 * stop reading (an inherited pipe, a FIFO), a FIFO nobody reads, a removed folder, a full
 * filesystem, an fd the arbiter was never given (real CLI, real pipes, FIFOs and tmpfs).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { parseEvent, type ArbiterEvent, type EventOf } from '../../runner/protocol/events';
import { startArbiter, type ArbiterRun } from '../support/arbiter-run';
import { get } from '../support/http';

const ARGS = ['-w', '1', '-b', '127.0.0.1:0', '--no-reload'];
/**
 * About 6 MiB of events (30 worker.inspector events of 200 KiB, 20 ms apart: 10 MiB/s, which
 * the test's own follower keeps up with even on a loaded machine): past what a follower may owe.
 */
const FLOOD = '/control-messages?n=30&kb=200&every=20';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-events-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every line of an events file, each a whole, valid event. */
function parseAll(text: string): ArbiterEvent[] {
  assert.ok(text === '' || text.endsWith('\n'), `the stream ends with a whole line: …${text.slice(-80)}`);
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const parsed = parseEvent(line);
      assert.ok(parsed.ok, `not a valid event: ${line.slice(0, 200)}`);
      return parsed.value;
    });
}

/** Asserts that `written` is `all` with exactly one stretch left out, marked by one events.gap. */
function assertOneCountedGap(written: ArbiterEvent[], all: ArbiterEvent[]): EventOf<'events.gap'> {
  const gaps = written.filter((event) => event.type === 'events.gap');
  assert.equal(gaps.length, 1, 'one gap');
  const gap = gaps[0] as EventOf<'events.gap'>;
  const at = written.indexOf(gap);
  assert.ok(gap.dropped > 0);
  assert.deepEqual(written.slice(0, at), all.slice(0, at), 'what came before the gap');
  assert.deepEqual(written.slice(at + 1), all.slice(at + gap.dropped), 'what came after it');
  assert.ok(gap.since <= all[at]!.ts, 'since: when the first dropped event was');
  return gap;
}

async function reloaded(run: ArbiterRun): Promise<void> {
  const generation = Math.max(...run.all('worker.spawned').map((e) => e.generation)) + 1;
  run.signal('SIGHUP');
  await run.waitFor('reload', (e) => e.phase === 'completed' && e.generation === generation);
}

test('an inherited pipe nobody reads: dropped with one notice; the arbiter reloads and stops at once', async (t) => {
  const run = startArbiter(t, [...ARGS, '--events', '/dev/fd/4', 'app.js'], { extraFds: ['pipe'] });
  t.after(() => (run.child.stdio[4] as Readable).destroy()); // never read
  await run.ready(1);
  await get(await run.port(), FLOOD);
  await run.waitForOutput(/events to \/dev\/fd\/4: its reader is \d+ MiB behind/);
  await reloaded(run);
  const stopping = Date.now();
  run.signal('SIGTERM');
  assert.equal((await run.waitExit()).code, 0);
  const took = Date.now() - stopping;
  t.diagnostic(`SIGTERM to exit with a follower that never reads: ${took} ms`);
  assert.ok(took < 5000, `took ${took} ms`);
  assert.equal(run.output.match(/events to \/dev\/fd\/4/g)?.length, 1, 'one notice');
  assert.equal(run.events.at(-1)?.type, 'arbiter.exited');
});

test('a FIFO whose reader pauses: dropped with one notice, resumed with an events.gap counting what it missed', async (t) => {
  const fifo = join(tempDir(t), 'events.fifo');
  execFileSync('mkfifo', [fifo]);
  const reader = new net.Socket({
    fd: openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK),
    readable: true,
    writable: false,
  });
  reader.pause(); // the follower stops reading
  t.after(() => reader.destroy());
  const run = startArbiter(t, [...ARGS, '--events', fifo, 'app.js']);
  await run.ready(1);
  await get(await run.port(), FLOOD);
  await run.waitForOutput(/events to .*events\.fifo: its reader is \d+ MiB behind/);
  await reloaded(run); // never blocked

  let text = '';
  const ended = new Promise((resolve) => reader.once('end', resolve));
  reader.setEncoding('utf8');
  reader.on('data', (chunk: string) => (text += chunk));
  reader.resume(); // it reads again: what waited in the queue, the gap, then the stream
  await run.waitForOutput(/events to .*events\.fifo resumed: \d+ event\(s\) dropped/);
  await reloaded(run);
  run.signal('SIGTERM');
  await run.waitFor('arbiter.exited');
  await ended;
  const gap = assertOneCountedGap(parseAll(text), run.events);
  assert.match(gap.reason, /behind/);
  assert.equal(run.output.match(/events to .*events\.fifo: its reader/g)?.length, 1, 'one notice');
});

test('a FIFO that no process reads: one line and exit 2 at start, never a hang', async (t) => {
  const fifo = join(tempDir(t), 'events.fifo');
  execFileSync('mkfifo', [fifo]);
  const run = startArbiter(t, [...ARGS, '--events', fifo, 'app.js']);
  assert.equal((await run.waitExit()).code, 2);
  assert.match(run.output, /no process reads the FIFO .*events\.fifo/);
  assert.equal(run.output.trim().split('\n').length, 1, run.output);
  assert.deepEqual(run.workerPids(), []);
});

test('SIGUSR1 after the events folder was removed: folder and file are made again and the stream goes on', async (t) => {
  const folder = join(tempDir(t), 'logs');
  mkdirSync(folder);
  const file = join(folder, 'events.ndjson');
  const run = startArbiter(t, [...ARGS, '--events', file, 'app.js']);
  await run.ready(1);
  rmSync(folder, { recursive: true });
  run.signal('SIGUSR1');
  await reloaded(run);
  run.signal('SIGTERM');
  await run.waitFor('arbiter.exited'); // every event received…
  assert.equal((await run.waitExit()).code, 0); // …and every write done
  const written = parseAll(readFileSync(file, 'utf8'));
  assert.ok(written.some((e) => e.type === 'reload' && e.phase === 'completed'));
  assert.ok(!written.some((e) => e.type === 'events.gap'), 'nothing was lost');
  assert.deepEqual(written, run.events.slice(-written.length));
});

test('a folder that cannot be made again is one line; a later SIGUSR1 resumes with an events.gap', async (t) => {
  const folder = join(tempDir(t), 'logs');
  mkdirSync(folder);
  const file = join(folder, 'events.ndjson');
  const run = startArbiter(t, [...ARGS, '--events', file, 'app.js']);
  await run.ready(1);
  rmSync(folder, { recursive: true });
  writeFileSync(folder, 'a file where the folder was');
  run.signal('SIGUSR1');
  await run.waitForOutput(/events to .*events\.ndjson: cannot reopen/);
  await reloaded(run); // serving goes on, its events are counted
  rmSync(folder);
  run.signal('SIGUSR1');
  await run.waitForOutput(/events to .*events\.ndjson resumed/);
  await reloaded(run);
  run.signal('SIGTERM');
  await run.waitFor('arbiter.exited'); // every event received…
  await run.waitExit(); // …and every write done
  const written = parseAll(readFileSync(file, 'utf8'));
  // The new file starts with the gap: what came before went with the removed folder.
  const gap = written[0];
  assert.ok(gap?.type === 'events.gap');
  assert.deepEqual(written.slice(1), run.events.slice(run.events.length - written.length + 1));
  assert.ok(gap.dropped > 0);
  assert.equal(run.output.match(/cannot reopen/g)?.length, 1);
});

test('a full filesystem: no partial line, one notice; once space is freed, SIGUSR1 resumes with an events.gap', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    t.skip(`a 64 KiB tmpfs cannot be mounted here (needs root): ${(error as Error).message.split('\n')[0]}`);
    return;
  }
  const file = join(dir, 'events.ndjson');
  const run = startArbiter(t, [...ARGS, '--events', file, 'app.js']);
  t.after(() => {
    execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  await run.ready(1);
  const filler = openSync(join(dir, 'filler'), 'w');
  try {
    for (;;) writeSync(filler, Buffer.alloc(1024, 'f'));
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(filler);
  }
  // Reloads until the file cannot take their events (its last page fills within a few).
  for (let i = 0; i < 20 && !/events to .*events\.ndjson stopped/.test(run.output); i++) await reloaded(run);
  await run.waitForOutput(/events to .*events\.ndjson stopped: .*ENOSPC/);
  const kept = parseAll(readFileSync(file, 'utf8'));
  assert.ok(kept.length > 0);

  rmSync(join(dir, 'filler'));
  run.signal('SIGUSR1');
  await run.waitForOutput(/events to .*events\.ndjson resumed/);
  await reloaded(run);
  run.signal('SIGTERM');
  await run.waitFor('arbiter.exited'); // every event received…
  await run.waitExit(); // …and every write done
  const written = parseAll(readFileSync(file, 'utf8'));
  assert.deepEqual(written.slice(0, kept.length), kept);
  const gap = assertOneCountedGap(written, run.events);
  assert.match(gap.reason, /ENOSPC/);
  assert.equal(run.output.match(/events to .*events\.ndjson stopped/g)?.length, 1, 'one notice');
});

test('--events /dev/fd/N for an fd the arbiter was not given (or one of its own): one line naming it, exit 2', async (t) => {
  // 200 is not open; 4 is Node's epoll fd and 6 the write end of one of libuv's own pipes.
  for (const fd of [200, 4, 6]) {
    const run = startArbiter(t, [...ARGS, '--events', `/dev/fd/${fd}`, 'app.js']);
    assert.equal((await run.waitExit()).code, 2, run.output);
    assert.match(run.output, new RegExp(`--events /dev/fd/${fd}: fd ${fd} .*e\\.g\\. 9>events\\.ndjson`));
    assert.equal(run.output.trim().split('\n').length, 1, run.output);
    assert.deepEqual(run.workerPids(), []);
  }
});

test('--events /dev/fd/N for a file the arbiter was given: the stream is appended to it', async (t) => {
  const file = join(tempDir(t), 'events.ndjson');
  const fd = openSync(file, 'a');
  const run = startArbiter(t, [...ARGS, '--events', '/dev/fd/4', 'app.js'], { extraFds: [fd] });
  closeSync(fd);
  await run.ready(1);
  run.signal('SIGTERM');
  await run.waitFor('arbiter.exited'); // every event received…
  await run.waitExit(); // …and every write done
  assert.deepEqual(parseAll(readFileSync(file, 'utf8')), run.events);
});
