/**
 * However the arbiter dies, nothing it started outlives it by more than a second: workers,
 * standbys, their children, and children that left the worker's process group. The arbiter is
 * started in a group of its own, as the editor starts it, and "Force Stop" is SIGKILL to that
 * whole group.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { get } from '../support/http';
import { FIXTURES, isAlive, startArbiter, waitGone, waitUntil } from '../support/arbiter-run';
import { PYTHON } from '../support/real-python-apps';
import { neighbour, NOT_ROOT } from '../support/users';

/** Resolves once nothing listens on `port` any more: a server of our own can take it. */
function portIsFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(port, '127.0.0.1', () => server.close(() => resolve()));
    server.on('error', reject);
  });
}

/** Kills what a test started outside the arbiter's knowledge, should the arbiter fail to. */
function reapAfter(t: TestContext, pids: number[]): void {
  t.after(() => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    }
  });
}

test('a process whose main thread has exited while another still runs is not gone: it still holds its port', async (t) => {
  // After a SIGKILL each thread of a process ends on its own and the last one closes its files;
  // /proc calls the process a zombie once the main thread has ended. Waiting for that alone let
  // the Force Stop test bind while a worker's last thread still held the port (EADDRINUSE under
  // load). This fixture stays in that state.
  const child = spawn(PYTHON, [join(FIXTURES, 'main-thread-exits.py')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.after(async () => {
    child.kill('SIGKILL');
    await exited;
  });
  const port = Number(
    await new Promise<string>((resolve) => child.stdout.setEncoding('utf8').once('data', resolve)),
  );
  const state = () => readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.[0];
  await waitUntil(() => state() === 'Z', 5000, 'the main thread exited');
  assert.ok(isAlive(child.pid!), 'a zombie main thread with a thread left runs');
  await assert.rejects(portIsFree(port), /EADDRINUSE/);
  child.kill('SIGKILL');
  await waitGone([child.pid!], 1000);
  await portIsFree(port);
});

test('Force Stop (SIGKILL to the arbiter group): a frozen worker, TERM-ignoring children and the standbys are gone within 1 s, the port is free', async (t) => {
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', 'app.js'], {
    detached: true,
    env: { FIXTURE_ON_SIGTERM: 'ignore' },
  });
  const workers = (await run.ready(2)).map((w) => w.pid);
  const standbys = await run.standbys(2);
  const port = await run.port();
  const children = [
    Number((await get(port, '/spawn-child')).body),
    Number((await get(port, '/spawn-child')).body),
  ];
  reapAfter(t, children);
  const frozen = (await get(port, '/freeze')).pid!;
  assert.ok(workers.includes(frozen));
  run.killGroup();
  await run.waitExit();
  await waitGone([...workers, ...standbys, ...children], 1000);
  await portIsFree(port);
});

test('HUP then Force Stop at once (--no-standby): the new generation, still booting, is gone within 1 s too', async (t) => {
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', '--no-standby', 'app.js'], {
    detached: true,
  });
  const old = (await run.ready(2)).map((w) => w.pid);
  const port = await run.port();
  run.signal('SIGHUP');
  await run.waitFor('worker.spawned', (e) => e.generation === 2);
  await run.waitFor('worker.spawned', (e) => e.generation === 2 && run.all('worker.spawned').length === 4);
  run.killGroup();
  await run.waitExit();
  await waitGone(run.workerPids(), 1000);
  assert.equal(run.workerPids().length, 4);
  assert.ok(old.every((pid) => run.workerPids().includes(pid)));
  await portIsFree(port);
});

/** A worker's child that left its session; gone within 1 s of the arbiter's SIGKILL. */
async function escapeeGoesWithTheArbiter(
  t: TestContext,
  expectCgroup: boolean,
  options: Parameters<typeof startArbiter>[2] = {},
): Promise<void> {
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', '--no-standby', 'app.js'], {
    detached: true,
    ...options,
  });
  const [worker] = await run.ready(1);
  const port = await run.port();
  const { cgroup } = await run.waitFor('arbiter.started');
  assert.equal(cgroup !== undefined, expectCgroup, `cgroup: ${cgroup}`);
  const escapee = Number((await get(port, '/spawn-escapee')).body);
  reapAfter(t, [escapee]);
  assert.ok(isAlive(escapee));
  run.killGroup();
  await run.waitExit();
  await waitGone([worker!.pid, escapee], 1000);
  await portIsFree(port);
  // The reaper removes the arbiter's cgroup folder once what was in it has died.
  if (cgroup) await waitUntil(() => !existsSync(cgroup), 2000, `${cgroup} removed`);
}

test(
  "a child that left the worker's session (setsid) and ignores TERM is gone within 1 s of the arbiter's SIGKILL (root: a cgroup)",
  { skip: process.getuid?.() !== 0 && NOT_ROOT },
  async (t) => {
    await escapeeGoesWithTheArbiter(t, true);
  },
);

const user = neighbour();

test(
  "the same as a user who cannot make a cgroup: the environment marks what is the arbiter's",
  { skip: !user && NOT_ROOT },
  async (t) => {
    // The fixtures are the neighbour's to read; its cwd and HOME must be too.
    const home = mkdtempSync(join(tmpdir(), 'arbiter-neighbour-home-'));
    chmodSync(home, 0o777);
    t.after(() => rmSync(home, { recursive: true, force: true }));
    await escapeeGoesWithTheArbiter(t, false, {
      user: user!,
      cwd: FIXTURES,
      env: { HOME: home, TMPDIR: home },
    });
  },
);

test('a worker that is replaced takes its setsid child along (the arbiter lives on)', async (t) => {
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'app.js']);
  const [worker] = await run.ready(1);
  const port = await run.port();
  const escapee = Number((await get(port, '/spawn-escapee')).body);
  reapAfter(t, [escapee]);
  run.signal('SIGHUP');
  await run.waitFor('worker.exited', (e) => e.pid === worker!.pid);
  // Asked to leave at the worker's exit, killed a second later.
  await waitGone([escapee], 2000);
  run.signal('SIGTERM');
  assert.equal((await run.waitExit()).code, 0);
});
