/**
 * Debugging workers, at the runner's level: inspectors open on demand (or for every worker
 * with --inspect) on 127.0.0.1 and a free port each; a worker paused by a real debugger keeps
 * its deadlines suspended while the editor says it is paused, and is killed like any frozen
 * worker when nobody does.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import type { ArbiterCommand } from '../../runner/protocol/commands';
import { get } from '../support/http';
import { InspectorClient } from '../support/inspector-client';
import { startArbiter, type ArbiterRun } from '../support/arbiter-run';

function send(run: ArbiterRun, command: ArbiterCommand): void {
  run.child.stdin!.write(`${JSON.stringify(command)}\n`);
}

/** The inspector's own HTTP endpoint: the targets it debugs. */
function targets(port: number): Promise<{ webSocketDebuggerUrl: string }[]> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/json/list', agent: false }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve(JSON.parse(body) as { webSocketDebuggerUrl: string }[]));
      })
      .on('error', reject);
  });
}

/** Resolves if no event of `type` matching `test` comes within `ms` (what a deadline suspension promises). */
async function noneWithin(
  run: ArbiterRun,
  type: 'worker.state',
  test: (e: { state: string }) => boolean,
  ms: number,
) {
  const seen = await run.waitForNext(type, test, ms).then(
    (event) => event,
    () => undefined,
  );
  assert.equal(seen, undefined, `unexpected ${JSON.stringify(seen)}`);
}

test('--inspect: every worker, of every generation, opens its inspector on 127.0.0.1 and a port of its own', async (t) => {
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', '--inspect', 'app.js']);
  await run.ready(2);
  const first = await Promise.all([1, 2].map((id) => run.waitFor('worker.inspector', (e) => e.id === id)));
  const check = async (event: (typeof first)[number]) => {
    assert.match(event.url!, new RegExp(`^ws://127\\.0\\.0\\.1:${event.port}/`));
    const [target] = await targets(event.port!);
    assert.equal(target?.webSocketDebuggerUrl, event.url);
  };
  for (const event of first) await check(event);
  run.signal('SIGHUP');
  await run.ready(2, 2);
  const second = await Promise.all([3, 4].map((id) => run.waitFor('worker.inspector', (e) => e.id === id)));
  const ports = [...first, ...second].map((e) => e.port);
  assert.equal(new Set(ports).size, 4, `four ports: ${ports.join(', ')}`);
  for (const event of second) await check(event);
  assert.match(run.output, /inspector on ws:\/\/127\.0\.0\.1:\d+\//);
  run.signal('SIGTERM');
  assert.equal((await run.waitExit()).code, 0);
});

test('no inspector unless asked; the inspect command opens one worker’s alone', async (t) => {
  const run = startArbiter(
    t,
    ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', '--stdin-commands', '--stop-on-stdin-close', 'app.js'],
    { stdin: 'pipe' },
  );
  const [first, second] = await run.ready(2);
  send(run, { type: 'inspect', pid: second!.pid });
  const opened = await run.waitFor('worker.inspector');
  assert.equal(opened.pid, second!.pid);
  assert.ok(opened.port);
  assert.deepEqual(
    run.all('worker.inspector').map((e) => e.pid),
    [second!.pid],
    `worker ${first!.pid} opened none`,
  );
  // Asked again, it reports the same one rather than failing.
  send(run, { type: 'inspect', pid: second!.pid });
  const again = await run.waitForNext('worker.inspector');
  assert.equal(again.port, opened.port);
  run.child.stdin!.end();
  assert.equal((await run.waitExit()).code, 0);
});

test('a worker paused at a breakpoint is not killed while the editor says so; when nobody does, it is', async (t) => {
  const run = startArbiter(
    t,
    [
      '-w',
      '1',
      '-b',
      '127.0.0.1:0',
      '--no-reload',
      '--timeout',
      '2',
      '--stdin-commands',
      '--stop-on-stdin-close',
      'app.js',
    ],
    { stdin: 'pipe' },
  );
  const [worker] = await run.ready(1);
  const pid = worker!.pid;
  send(run, { type: 'inspect', pid });
  const { url } = await run.waitFor('worker.inspector');
  const debuggerClient = await InspectorClient.connect(url!);
  t.after(() => debuggerClient.close());
  await debuggerClient.send('Debugger.enable');

  // A real pause: V8 stops the worker at its next statement (its heartbeat timer fires within 0.5 s).
  const paused = debuggerClient.event('Debugger.paused');
  await debuggerClient.send('Debugger.pause');
  await paused;
  send(run, { type: 'debugger', pid, paused: true });
  await run.waitFor('worker.paused', (e) => e.pid === pid && e.paused);
  // Held for 5 s, more than twice the heartbeat timeout: no timed-out, no kill.
  await noneWithin(run, 'worker.state', (e) => e.state !== 'ready', 5_000);

  await debuggerClient.send('Debugger.resume');
  send(run, { type: 'debugger', pid, paused: false });
  await run.waitFor('worker.paused', (e) => e.pid === pid && !e.paused);
  const port = await run.port();
  assert.equal((await get(port, '/')).pid, pid, 'the same worker serves on');

  // The control: paused again, and the arbiter not told. It is a frozen worker, and goes.
  await debuggerClient.send('Debugger.pause');
  const timedOut = await run.waitForNext(
    'worker.state',
    (e) => e.pid === pid && e.state === 'timed-out',
    10_000,
  );
  assert.match(timedOut.reason, /no heartbeat for 2 s/);
  run.child.stdin!.end();
  assert.equal((await run.waitExit()).code, 0);
});

/** Pauses the worker for real and tells the arbiter, as the editor does. */
async function pauseForReal(
  t: { after: (fn: () => void) => void },
  run: ArbiterRun,
  pid: number,
  url: string,
) {
  const client = await InspectorClient.connect(url);
  t.after(() => client.close());
  await client.send('Debugger.enable');
  const paused = client.event('Debugger.paused');
  await client.send('Debugger.pause');
  await paused;
  send(run, { type: 'debugger', pid, paused: true });
  await run.waitFor('worker.paused', (e) => e.pid === pid && e.paused);
  return client;
}

test('a worker paused while it boots is not timed out at its boot deadline; resumed, it becomes ready', async (t) => {
  const run = startArbiter(
    t,
    [
      '-w',
      '1',
      '-b',
      '127.0.0.1:0',
      '--no-reload',
      '--inspect',
      '--boot-timeout',
      '2',
      '--stdin-commands',
      '--stop-on-stdin-close',
      'app.js',
    ],
    { stdin: 'pipe', env: { FIXTURE_BOOT_DELAY_MS: '1500' } },
  );
  const spawned = await run.waitFor('worker.spawned');
  const { url } = await run.waitFor('worker.inspector', (e) => e.pid === spawned.pid);
  const client = await pauseForReal(t, run, spawned.pid, url!);
  assert.equal(run.all('worker.state').filter((e) => e.state === 'ready').length, 0, 'paused before ready');
  // Held for 4 s, twice the boot timeout: no boot-timeout, no kill.
  await noneWithin(run, 'worker.state', (e) => e.state !== 'booting', 4_000);

  await client.send('Debugger.resume');
  send(run, { type: 'debugger', pid: spawned.pid, paused: false });
  const [ready] = await run.ready(1);
  assert.equal(ready!.pid, spawned.pid, 'the same worker came up');
  run.child.stdin!.end();
  assert.equal((await run.waitExit()).code, 0);
});

test('a worker paused while it drains keeps its stop: not killed at the graceful timeout, it finishes once resumed', async (t) => {
  const run = startArbiter(
    t,
    ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', '--graceful-timeout', '2', '--stdin-commands', 'app.js'],
    { stdin: 'pipe', env: { FIXTURE_SHUTDOWN_HOOKS: 'ok' } },
  );
  const [worker] = await run.ready(1);
  const pid = worker!.pid;
  send(run, { type: 'inspect', pid });
  const { url } = await run.waitFor('worker.inspector');
  const client = await pauseForReal(t, run, pid, url!);

  run.signal('SIGTERM');
  await run.waitFor('worker.state', (e) => e.pid === pid && e.state === 'draining');
  // Held for 4 s, twice the graceful timeout: the stop waits, nothing is killed.
  await noneWithin(run, 'worker.state', (e) => e.state !== 'draining', 4_000);
  assert.equal(run.all('worker.exited').length, 0);

  await client.send('Debugger.resume');
  send(run, { type: 'debugger', pid, paused: false });
  const exited = await run.waitFor('worker.exited', (e) => e.pid === pid);
  assert.equal(exited.state, 'exited');
  assert.deepEqual(
    run
      .all('hook')
      .filter((e) => e.phase === 'end')
      .map((e) => [e.name, e.outcome]),
    [['hook-ok', 'ok']],
  );
  assert.equal((await run.waitExit()).code, 0);
});
