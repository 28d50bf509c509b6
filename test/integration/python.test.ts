/**
 * Python apps under the arbiter, with real servers: gunicorn's worker classes for WSGI, uvicorn
 * for ASGI, a real redis-server, a real debugpy. The interpreter is named: Debian's packages
 * install for /usr/bin/python3, and a python3 earlier on PATH may not see them.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES, isAlive, startArbiter, waitGone, type ArbiterRun } from '../support/arbiter-run';
import { get } from '../support/http';
import { assertRecycledUnderLoad } from '../support/recycle';
import { startRedis } from '../support/redis';

const PYTHON = '/usr/bin/python3';
const skip = existsSync(PYTHON) ? false : `${PYTHON} is not installed`;

/** A fresh copy of the fixtures: the tests edit files, and Python writes __pycache__ beside them. */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-py-'));
  cpSync(join(FIXTURES, 'python-apps'), dir, { recursive: true });
  return dir;
}

const base = ['--python', PYTHON, '-b', '127.0.0.1:0', '--no-reload'];

/** The hook runs the events reported as ended, as [name, outcome]. */
const hooksEnded = (run: ArbiterRun) =>
  run
    .all('hook')
    .filter((e) => e.phase === 'end')
    .map((e) => [e.name, e.outcome]);

for (const [how, signal] of [
  ['Stop (TERM)', 'SIGTERM'],
  ['Ctrl+C (INT)', 'SIGINT'],
] as const) {
  test(
    `Flask with a Redis pool: ${how} runs the atexit cleanup, reported, and Redis's client count returns to where it was`,
    { skip },
    async (t) => {
      const redis = await startRedis(t);
      const before = await redis.clients();
      const dir = project();
      const run = startArbiter(t, [...base, '-w', '2', 'shop:app'], {
        cwd: dir,
        env: { REDIS_URL: redis.url },
      });
      await run.ready(2);
      const port = await run.port();
      for (let i = 0; i < 6; i++) assert.match((await get(port)).body, /^v1 \d+ \d+$/);
      assert.ok((await redis.clients()) > before, 'the pools hold connections');

      run.signal(signal);
      assert.equal((await run.waitExit()).code, 0);
      const cleanups = hooksEnded(run).filter(([name]) => String(name).includes('close_pool'));
      assert.deepEqual(cleanups, [
        [cleanups[0]![0], 'ok'],
        [cleanups[0]![0], 'ok'],
      ]);
      assert.equal(await redis.clients(), before);
    },
  );
}

test(
  'the gevent worker: Ctrl+C is a clean exit, no exception trace, the hooks reported',
  { skip },
  async (t) => {
    const redis = await startRedis(t);
    const before = await redis.clients();
    const run = startArbiter(t, [...base, '-w', '1', '-k', 'gevent', 'shop:app'], {
      cwd: project(),
      env: { REDIS_URL: redis.url },
    });
    await run.ready(1);
    const port = await run.port();
    assert.match((await get(port)).body, /^v1 \d+ \d+$/);
    run.signal('SIGINT');
    assert.equal((await run.waitExit()).code, 0);
    assert.doesNotMatch(run.output, /Traceback|SystemExit|Error/);
    assert.ok(
      hooksEnded(run).some(([name, outcome]) => String(name).includes('close_pool') && outcome === 'ok'),
      JSON.stringify(hooksEnded(run)),
    );
    const [exited] = run.all('worker.exited');
    assert.equal(exited?.state, 'exited');
    assert.equal(await redis.clients(), before);
  },
);

test(
  'a non-daemon thread that loops forever: Stop ends it at the graceful timeout, the events name the thread, the arbiter exits on time',
  { skip },
  async (t) => {
    const run = startArbiter(t, [...base, '-w', '1', '--graceful-timeout', '2', 'flusher:application'], {
      cwd: project(),
    });
    const [worker] = await run.ready(1);
    run.signal('SIGTERM');
    const exited = await run.waitFor('worker.exited', (e) => e.pid === worker!.pid);
    assert.equal(exited.state, 'killed');
    const thread = run.all('hook').filter((e) => e.name.includes('flusher'));
    assert.deepEqual(
      thread.map((e) => [e.phase, e.outcome]),
      [
        ['start', undefined],
        ['end', 'killed'],
      ],
    );
    assert.match(run.output, /flusher/);
    assert.equal((await run.waitExit()).code, 0);
  },
);

test(
  'an idle thread pool (concurrent.futures) is not a thread that keeps the worker alive: Stop exits at once',
  { skip },
  async (t) => {
    const run = startArbiter(t, [...base, '-w', '1', '--graceful-timeout', '10', 'pool:application'], {
      cwd: project(),
    });
    const [worker] = await run.ready(1);
    assert.match((await get(await run.port())).body, /^pool \d+$/);
    run.signal('SIGTERM');
    const exited = await run.waitFor('worker.exited', (e) => e.pid === worker!.pid);
    assert.equal(exited.state, 'exited');
    assert.deepEqual(
      run.all('hook').filter((e) => e.name.startsWith('thread ')),
      [],
    );
    assert.equal((await run.waitExit()).code, 0);
  },
);

test(
  'on_shutdown: a named hook runs on Stop, timed; a second Ctrl+C while it runs (a quick stop) leaves it to finish',
  { skip },
  async (t) => {
    const run = startArbiter(t, [...base, '-w', '1', 'flush:application'], { cwd: project() });
    await run.ready(1);
    run.signal('SIGINT');
    await run.waitFor('hook', (e) => e.name === 'flush metrics' && e.phase === 'start');
    run.signal('SIGINT');
    const end = await run.waitFor('hook', (e) => e.name === 'flush metrics' && e.phase === 'end');
    assert.equal(end.outcome, 'ok', end.error);
    assert.ok(end.durationMs! >= 900, `${end.durationMs} ms`);
    assert.equal((await run.waitExit()).code, 0);
    assert.doesNotMatch(run.output, /Traceback/);
  },
);

test(
  'Starlette with lifespan: ready waits for startup; a reload runs the old generation’s shutdown; the events show both',
  { skip },
  async (t) => {
    const run = startArbiter(t, [...base, '-w', '1', 'lifespan:app'], { cwd: project() });
    const [first] = await run.ready(1);
    const port = await run.port();
    assert.match((await get(port)).body, /^started=True \d+$/);
    const startup = run
      .all('hook')
      .find((e) => e.pid === first!.pid && e.name.includes('startup') && e.phase === 'end');
    assert.equal(startup?.outcome, 'ok');
    assert.ok(startup.durationMs! >= 400, `startup took ${startup.durationMs} ms`);
    const ready = run.all('worker.state').find((e) => e.pid === first!.pid && e.state === 'ready')!;
    assert.ok(run.events.indexOf(startup) < run.events.indexOf(ready), 'ready only after startup');

    run.signal('SIGHUP');
    await run.ready(1, 2);
    const shutdown = await run.waitFor(
      'hook',
      (e) => e.pid === first!.pid && e.name.includes('shutdown') && e.phase === 'end',
    );
    assert.equal(shutdown.outcome, 'ok');
    assert.match((await get(port)).body, /^started=True \d+$/);
    run.signal('SIGTERM');
    assert.equal((await run.waitExit()).code, 0);
  },
);

test(
  'gunicorn.conf.py hooks: post_fork, worker_int, worker_exit and on_exit each run once, at their moment, reported',
  { skip },
  async (t) => {
    const dir = project();
    const hooks = join(dir, 'hooks');
    const markers = () =>
      existsSync(join(hooks, 'markers'))
        ? readFileSync(join(hooks, 'markers'), 'utf8')
            .trim()
            .split('\n')
            .map((line) => line.split(' ')[0])
        : [];
    const run = startArbiter(t, [...base, '-w', '1', 'app:application'], {
      cwd: hooks,
      env: { MARKERS_DIR: hooks },
    });
    await run.ready(1);
    assert.deepEqual(markers(), ['post_fork']);
    run.signal('SIGQUIT'); // a quick stop: gunicorn runs worker_int on the worker's QUIT/INT
    assert.equal((await run.waitExit()).code, 0);
    assert.deepEqual(markers(), ['post_fork', 'worker_int', 'worker_exit', 'on_exit']);
    const reported = hooksEnded(run);
    for (const name of ['post_fork', 'worker_int', 'worker_exit', 'on_exit'])
      assert.deepEqual(
        reported.filter(([n]) => String(n).includes(name)).map(([, outcome]) => outcome),
        ['ok'],
        `${name} in ${JSON.stringify(reported)}`,
      );
  },
);

test(
  'Flask: 0 failed requests across 20 reloads under load; a syntax error keeps the old generation serving',
  { skip },
  async (t) => {
    const dir = project();
    const app = join(dir, 'hello.py');
    const run = startArbiter(t, ['--python', PYTHON, '-b', '127.0.0.1:0', '-w', '2', 'hello:app'], {
      cwd: dir,
    });
    await run.ready(2);
    await run.waitFor('watcher.ready');
    const port = await run.port();
    let ok = 0;
    const failures: string[] = [];
    let loading = true;
    const client = async () => {
      while (loading) {
        try {
          const { body } = await get(port);
          if (/^v\d+ \d+$/.test(body)) ok++;
          else failures.push(body);
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    };
    const clients = [client(), client(), client(), client()];
    const source = readFileSync(app, 'utf8');
    for (let version = 2; version <= 21; version++) {
      writeFileSync(app, source.replace('VERSION = "v1"', `VERSION = "v${version}"`));
      await run.waitFor('reload', (e) => e.phase === 'completed' && e.generation === version);
    }
    loading = false;
    await Promise.all(clients);
    assert.deepEqual(failures, []);
    assert.ok(ok > 100, `${ok} requests`);
    // Until the old generation has exited it may still take a connection.
    while (run.all('worker.exited').filter((e) => e.generation === 20).length < 2)
      await run.waitForNext('worker.exited', (e) => e.generation === 20);
    assert.match((await get(port)).body, /^v21 /);

    writeFileSync(app, source.replace('VERSION = "v1"', 'VERSION = "v22'));
    const failed = await run.waitFor('reload', (e) => e.phase === 'failed');
    assert.equal(failed.error?.file, app);
    assert.equal(failed.error?.line, 6);
    assert.match(failed.error?.message ?? '', /SyntaxError/);
    assert.match((await get(port)).body, /^v21 /, 'the old generation still serves');
    run.signal('SIGTERM');
    assert.equal((await run.waitExit()).code, 0);
  },
);

/** Sends one DAP request over a socket and resolves with the response. */
function dapRequest(
  port: number,
  command: string,
  args: object,
): Promise<{ success: boolean; command: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => socket.destroy(new Error(`no DAP response to ${command}`)), 10_000);
    let buffer = Buffer.alloc(0);
    socket.on('connect', () => {
      const body = JSON.stringify({ seq: 1, type: 'request', command, arguments: args });
      socket.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const text = buffer.toString('latin1');
        const header = /^Content-Length: (\d+)\r\n\r\n/.exec(text);
        if (!header) return;
        const end = header[0].length + Number(header[1]);
        if (buffer.length < end) return;
        const message = JSON.parse(buffer.subarray(header[0].length, end).toString('utf8')) as {
          type: string;
          command: string;
          success: boolean;
        };
        buffer = buffer.subarray(end);
        if (message.type === 'response') {
          clearTimeout(timer);
          socket.destroy();
          return resolve(message);
        }
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

test(
  'debug: --inspect starts debugpy in each worker on 127.0.0.1 and a free port, and it answers a DAP client',
  { skip },
  async (t) => {
    const run = startArbiter(t, [...base, '-w', '2', '--inspect', 'hello:app'], { cwd: project() });
    await run.ready(2);
    const opened = await Promise.all([1, 2].map((id) => run.waitFor('worker.inspector', (e) => e.id === id)));
    assert.equal(new Set(opened.map((e) => e.port)).size, 2, 'a port each');
    for (const event of opened) {
      assert.equal(event.url, `tcp://127.0.0.1:${event.port}`);
      const response = await dapRequest(event.port!, 'initialize', {
        adapterID: 'arbiter-test',
        clientID: 'test',
      });
      assert.equal(response.command, 'initialize');
      assert.equal(response.success, true);
    }
    assert.match((await get(await run.port())).body, /^v1 \d+$/, 'still serving');
    run.signal('SIGTERM');
    assert.equal((await run.waitExit()).code, 0);
  },
);

test(
  'bad Python input: a missing interpreter is exit 2; an app that fails at import, a missing module or callable, exit 4 with what and where',
  { skip },
  async (t) => {
    const dir = project();
    const missing = startArbiter(t, ['--python', '/nonexistent/python3', '-b', '127.0.0.1:0', 'hello:app'], {
      cwd: dir,
    });
    assert.equal((await missing.waitExit()).code, 2);
    assert.match(
      missing.output,
      /the Python interpreter '\/nonexistent\/python3' was not found \(set it with --python PATH\)/,
    );

    for (const [app, message, line] of [
      ['import_error:application', /ModuleNotFoundError: No module named 'no_such_module_for_arbiter'/, 4],
      ['nomodule:app', /No module named 'nomodule' \(APP is nomodule:app, looked in /, undefined],
      ['hello:nope', /hello\.py has no attribute 'nope'/, undefined],
    ] as const) {
      const run = startArbiter(t, [...base, '-w', '1', app], { cwd: dir });
      const failed = await run.waitFor('worker.exited', (e) => e.state === 'boot-failed');
      assert.match(failed.reason, message);
      // Python's own traceback, as a Python developer reads it.
      if (line)
        assert.ok(run.output.includes(`File "${join(dir, 'import_error.py')}", line ${line}`), run.output);
      assert.equal((await run.waitExit()).code, 4, app);
    }
  },
);

test(
  'a save within the same second and of the same size is served, not the stale bytecode Python would trust',
  { skip },
  async (t) => {
    const dir = project();
    const app = join(dir, 'hello.py');
    const run = startArbiter(t, ['--python', PYTHON, '-b', '127.0.0.1:0', '-w', '1', 'hello:app'], {
      cwd: dir,
      // Bytecode written, as on a developer's machine (empty is unset, for Python).
      env: { PYTHONDONTWRITEBYTECODE: '' },
    });
    await run.ready(1);
    await run.waitFor('watcher.ready');
    const port = await run.port();
    const source = readFileSync(app, 'utf8');
    /** Saves VERSION, then waits until only the new generation serves. */
    const save = async (version: number, sameStat: boolean) => {
      // Python trusts a .pyc while the source's mtime, in whole seconds, and size are unchanged.
      const { atime, mtime } = statSync(app);
      writeFileSync(app, source.replace('VERSION = "v1"', `VERSION = "v${version}"`));
      if (sameStat) utimesSync(app, atime, mtime);
      await run.waitFor('reload', (e) => e.phase === 'completed' && e.generation === version);
      await run.waitFor('worker.exited', (e) => e.generation === version - 1);
      return (await get(port)).body;
    };
    assert.match(await save(2, false), /^v2 /);
    assert.ok(existsSync(join(dir, '__pycache__')), 'bytecode was written');
    assert.match(await save(3, true), /^v3 /);
    run.signal('SIGTERM');
    assert.equal((await run.waitExit()).code, 0);
  },
);

test(
  'a stuck Python worker stops beating (the beat comes from its serving loop): aborted, killed, replaced, while the other serves',
  { skip },
  async (t) => {
    const run = startArbiter(t, [...base, '-w', '2', '--timeout', '2', 'stuck:application'], {
      cwd: project(),
    });
    const workers = await run.ready(2);
    const port = await run.port();
    void get(port, '/freeze').catch(() => undefined); // never answered: its worker spins
    const timedOut = await run.waitFor('worker.state', (e) => e.state === 'timed-out');
    const other = workers.find((w) => w.pid !== timedOut.pid)!.pid;
    const exited = await run.waitFor('worker.exited', (e) => e.pid === timedOut.pid);
    assert.equal(exited.state, 'timed-out');
    await run.waitFor(
      'worker.state',
      (e) => e.state === 'ready' && e.pid !== other && e.pid !== timedOut.pid,
    );
    assert.match((await get(port)).body, /^\d+$/);
    run.signal('SIGTERM');
    assert.equal((await run.waitExit()).code, 0);
  },
);

test(
  'SIGKILL of the arbiter: its Python workers and their children are gone within 1 s',
  { skip },
  async (t) => {
    const run = startArbiter(t, [...base, '-w', '2', 'stuck:application'], { cwd: project() });
    const workers = await run.ready(2);
    const grandchild = Number((await get(await run.port(), '/spawn-child')).body);
    assert.ok(isAlive(grandchild));
    run.signal('SIGKILL');
    await run.waitExit();
    const took = await waitGone([...workers.map((w) => w.pid), ...run.idleStandbys(), grandchild], 1000);
    assert.ok(took <= 1000);
  },
);

test(
  'max-requests on the gthread worker: the worker asks to retire, its replacement is ready before it leaves, no request fails',
  { skip },
  async (t) => {
    const run = startArbiter(
      t,
      [...base, '-w', '1', '-k', 'gthread', '--threads', '4', '--max-requests', '20', 'hello:app'],
      {
        cwd: project(),
      },
    );
    const [first] = await run.ready(1);
    await assertRecycledUnderLoad(run, first!.pid);
    run.signal('SIGTERM');
    assert.equal((await run.waitExit()).code, 0);
  },
);
