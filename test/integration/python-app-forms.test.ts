/**
 * Every APP form gunicorn and uvicorn take, and gunicorn.conf.py's settings, mean here what they
 * mean there: a factory call with literal arguments, uvicorn's --factory, a module alone, a conf
 * that binds, sizes the pool, sets the environment or names the app. What the arbiter cannot do
 * is one line and a non-zero exit; what means nothing here is named once.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { FIXTURES, ROOT, startArbiter } from '../support/arbiter-run';
import { freePort } from '../support/free-port';
import { get } from '../support/http';

const PYTHON = '/usr/bin/python3';
const skip = existsSync(PYTHON) ? false : `${PYTHON} is not installed`;
const BASE = ['--python', PYTHON, '--no-reload'];

function project(t: TestContext, conf?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-py-forms-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(FIXTURES, 'python-apps'), dir, { recursive: true });
  if (conf !== undefined) writeFileSync(join(dir, 'gunicorn.conf.py'), conf);
  return dir;
}

for (const [app, args, answer] of [
  ['factory:create_app()', [], /^default False - \d+$/],
  ["factory:create_app('named', debug=True)", [], /^named True - \d+$/],
  ['factory:create_app', ['--factory'], /^default False - \d+$/],
  ['mysite.wsgi', [], /^mysite\.wsgi's application$/],
  ['asgi_factory:create_app', ['--factory'], /^made by a factory$/],
] as const) {
  test(`APP ${[...args, app].join(' ')}: served as gunicorn or uvicorn would`, { skip }, async (t) => {
    const run = startArbiter(t, [...BASE, '-w', '1', '-b', '127.0.0.1:0', ...args, app], { cwd: project(t) });
    await run.ready(1);
    assert.match((await get(await run.port())).body, answer);
    run.signal('SIGTERM');
    assert.equal((await run.waitExit()).code, 0);
  });
}

test(
  "gunicorn.conf.py's bind, workers, raw_env and wsgi_app are the arbiter's; the command line wins; what means nothing here is named once",
  { skip },
  async (t) => {
    const port = await freePort();
    const dir = project(
      t,
      [
        `bind = "127.0.0.1:${port}"`,
        `workers = 3`,
        `raw_env = ["FROM_CONF=conf"]`,
        `wsgi_app = "factory:create_app('from-conf')"`,
        `preload_app = True`,
        ``,
      ].join('\n'),
    );
    const run = startArbiter(t, [...BASE], { cwd: dir });
    await run.ready(3);
    const started = await run.waitFor('arbiter.started');
    assert.deepEqual(started.listeners, [{ host: '127.0.0.1', port }]);
    assert.equal(started.config.workers, 3);
    assert.match((await get(port)).body, /^from-conf False conf \d+$/);
    assert.match(
      run.output,
      /gunicorn\.conf\.py: not used by the arbiter: preload_app \(each worker imports the app itself\)/,
    );
    run.signal('SIGTERM');
    assert.equal((await run.waitExit()).code, 0);

    // -w on the command line wins over the conf's workers.
    const again = startArbiter(t, [...BASE, '-w', '1', '-b', '127.0.0.1:0'], { cwd: dir });
    await again.ready(1);
    assert.equal((await again.waitFor('arbiter.started')).config.workers, 1);
  },
);

for (const [conf, says] of [
  [
    'daemon = True\npidfile = "/tmp/app.pid"\n',
    /sets what the arbiter cannot do: daemon \(the arbiter runs in the foreground\), pidfile \(the arbiter writes no pid file\)/,
  ],
  ['worker_class = "eventlet"\n', /worker_class eventlet is not one the arbiter runs/],
] as const) {
  test(`a gunicorn.conf.py with ${conf.split(' ')[0]}: one line, exit 2`, { skip }, async (t) => {
    const run = startArbiter(t, [...BASE, '-w', '1', 'hello:app'], { cwd: project(t, conf) });
    assert.equal((await run.waitExit()).code, 2);
    assert.match(run.output, says);
    assert.equal(run.output.trim().split('\n').length, 1, run.output);
  });
}

test(
  "a terminal's Ctrl+C while a server hook runs: the hook finishes, as under gunicorn (its process is not in the terminal's group)",
  { skip },
  async (t) => {
    const dir = project(
      t,
      [
        `import sys, time`,
        `def when_ready(server):`,
        `    print("when_ready started", flush=True)`,
        `    time.sleep(1.5)`,
        `    open("finished", "w").write("yes")`,
        ``,
      ].join('\n'),
    );
    const run = startArbiter(t, [...BASE, '-w', '1', '-b', '127.0.0.1:0', 'hello:app'], {
      cwd: dir,
      wrapper: ['python3', join(ROOT, 'test/support/pty-ctrl-c.py'), 'when_ready started', '--'],
    });
    assert.equal((await run.waitExit()).code, 0, run.output);
    const ended = run.all('hook').find((e) => e.name === 'when_ready' && e.phase === 'end');
    assert.equal(ended?.outcome, 'ok', ended?.error);
    assert.ok(existsSync(join(dir, 'finished')), 'the hook ran to its end');
  },
);
