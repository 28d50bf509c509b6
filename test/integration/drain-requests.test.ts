/**
 * Which requests a drain waits on (issue 16, part 3): a draining worker reports its in-flight
 * requests by method, path and age, every second until they are done; a kill says which it cut.
 * Real servers, real slow requests, in both runtimes.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startArbiter } from '../support/arbiter-run';

const PYTHON = '/usr/bin/python3';
const noPython = existsSync(PYTHON) ? false : `${PYTHON} is not installed`;

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-drain-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Starts a request and resolves once its response headers came (the app is serving it). */
function startRequest(port: number, path: string): { answered: Promise<number>; headers: Promise<void> } {
  let headers!: () => void;
  const headersCame = new Promise<void>((resolve) => (headers = resolve));
  const answered = new Promise<number>((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      headers();
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', () => resolve(-1));
    });
    request.on('error', () => resolve(-1));
  });
  return { answered, headers: headersCame };
}

/** /slow?ms=N answers after N ms (its headers at once, so the test knows it is being served). */
const NODE_APP = `
const http = require('node:http');
http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname !== '/export') return res.end('ok');
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.write('start\\n');
  setTimeout(() => res.end('done'), Number(url.searchParams.get('ms')));
}).listen(process.env.PORT);
`;

test('a draining worker says which request it waits on (by path, without the query), then that it is done', async (t) => {
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'app.js'], {
    cwd: project({ 'app.js': NODE_APP }),
  });
  const [worker] = await run.ready(1);
  const slow = startRequest(await run.port(), '/export?ms=1500&token=secret');
  await slow.headers;
  run.signal('SIGHUP');
  const waiting = await run.waitFor('worker.requests', (e) => e.pid === worker!.pid && e.total === 1);
  assert.equal(waiting.at, 'draining');
  assert.deepEqual(
    waiting.requests.map((r) => [r.method, r.path]),
    [['GET', '/export']],
  );
  assert.doesNotMatch(JSON.stringify(run.events), /secret/, 'the query is never reported');
  // A second report, a second later, with the request older.
  const later = await run.waitForNext('worker.requests', (e) => e.pid === worker!.pid && e.total === 1);
  assert.ok(later.requests[0]!.ageMs > waiting.requests[0]!.ageMs);
  assert.equal(await slow.answered, 200);
  await run.waitFor('worker.exited', (e) => e.pid === worker!.pid && e.state === 'exited');
  assert.ok(!run.events.some((e) => e.type === 'worker.requests' && e.at === 'cut'));
  // The reload's swap: the old worker finished the request it had, nothing was cut.
  const swap = await run.waitFor('reload.swap');
  assert.deepEqual([swap.generation, swap.oldWorkers, swap.oldServed, swap.cut], [2, 1, 1, 0]);
  await run.waitForOutput(
    /generation 2 took over in \d+ ms: the old workers served 1 request\(s\) meanwhile, the new \d+; none cut/,
  );
});

test('a request that outlives the graceful timeout: the kill says it cut it', async (t) => {
  const run = startArbiter(
    t,
    ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', '--graceful-timeout', '1.5', 'app.js'],
    { cwd: project({ 'app.js': NODE_APP }) },
  );
  const [worker] = await run.ready(1);
  const stuck = startRequest(await run.port(), '/export?ms=60000');
  await stuck.headers;
  run.signal('SIGTERM');
  const cut = await run.waitFor('worker.requests', (e) => e.pid === worker!.pid && e.at === 'cut');
  assert.deepEqual(
    cut.requests.map((r) => [r.method, r.path]),
    [['GET', '/export']],
  );
  assert.ok(cut.requests[0]!.ageMs >= 1000, `age ${cut.requests[0]!.ageMs} ms`);
  await run.waitForOutput(/the kill cut 1 request\(s\): GET \/export \(\d+\.\d s\)/);
  assert.equal(await stuck.answered, -1, 'the client saw its request cut');
  await run.waitExit();
});

test('a reload whose old worker is killed with a request in flight: its swap says what was cut', async (t) => {
  const run = startArbiter(
    t,
    ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', '--graceful-timeout', '1.5', 'app.js'],
    { cwd: project({ 'app.js': NODE_APP }) },
  );
  const [worker] = await run.ready(1);
  const port = await run.port();
  const stuck = startRequest(port, '/export?ms=60000');
  await stuck.headers;
  run.signal('SIGHUP');
  await run.waitFor('reload', (e) => e.phase === 'completed');
  // The new generation serves meanwhile.
  for (let i = 0; i < 3; i++) assert.equal(await startRequest(port, '/').answered, 200);
  await run.waitFor('worker.exited', (e) => e.pid === worker!.pid && e.state === 'killed');
  const swap = await run.waitFor('reload.swap');
  assert.deepEqual([swap.generation, swap.oldServed, swap.cut], [2, 0, 1]);
  assert.ok(swap.newServed <= 3, `new served ${swap.newServed}`);
  assert.ok(swap.durationMs >= 1000, `${swap.durationMs} ms`);
  await run.waitForOutput(/generation 2 took over in \d+ ms: .*; 1 cut by a kill/);
});

const WSGI_APP = `
import time


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    if environ["PATH_INFO"] != "/report":
        return [b"ok"]

    def body():
        yield b"start\\n"
        time.sleep(1.5)
        yield b"done"

    return body()
`;

test(
  'Python (WSGI, gthread): a draining worker says which request it waits on, then that it is done',
  { skip: noPython },
  async (t) => {
    const run = startArbiter(
      t,
      [
        '--python',
        PYTHON,
        '-w',
        '1',
        '-k',
        'gthread',
        '--threads',
        '2',
        '-b',
        '127.0.0.1:0',
        '--no-reload',
        'slow:app',
      ],
      { cwd: project({ 'slow.py': WSGI_APP }) },
    );
    const [worker] = await run.ready(1);
    const slow = startRequest(await run.port(), '/report?user=me');
    await slow.headers;
    run.signal('SIGHUP');
    const waiting = await run.waitFor('worker.requests', (e) => e.pid === worker!.pid && e.total === 1);
    assert.deepEqual(
      waiting.requests.map((r) => [r.method, r.path]),
      [['GET', '/report']],
    );
    assert.equal(await slow.answered, 200);
    await run.waitFor('worker.exited', (e) => e.pid === worker!.pid);
    const swap = await run.waitFor('reload.swap');
    assert.deepEqual(
      [swap.generation, swap.oldServed, swap.cut],
      [2, 1, 0],
      'its last counters came as it exited',
    );
  },
);
