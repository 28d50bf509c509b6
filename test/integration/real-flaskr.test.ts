/**
 * Flask's own tutorial app, flaskr (an app factory, SQLite in its instance folder), unchanged,
 * under the arbiter: it starts from every factory form gunicorn and uvicorn take, serves its
 * blog's index from the database, takes a template edit live with 0 failed requests across 20
 * reloads under load, and exits 0 on Ctrl+C with nothing left.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { startArbiter, waitGone } from '../support/arbiter-run';
import { get } from '../support/http';
import { checkRealApp } from '../support/real-app-checks';
import { PYTHON, noPythonPackages, python, pythonApp } from '../support/real-python-apps';

const skip = noPythonPackages('flask', 'gunicorn', 'gevent');
const RELOADS = 20;
const INDEX = /<h1>Posts<\/h1>[\s\S]*<h1>test title<\/h1>[\s\S]*by test on 2018-01-01/;

/** `flask --app flaskr init-db`, as the tutorial says, then the tutorial tests' own data.sql. */
async function flaskr(t: TestContext): Promise<string> {
  const dir = pythonApp(t, 'flaskr');
  await python(dir, ['-m', 'flask', '--app', 'flaskr', 'init-db']);
  await python(dir, [
    '-c',
    'import sqlite3; db = sqlite3.connect("instance/flaskr.sqlite"); db.executescript(open("tests/data.sql").read()); db.commit()',
  ]);
  return dir;
}

for (const [form, workerClass] of [
  [['flaskr:create_app()'], 'sync'],
  [['flaskr:create_app(test_config=None)'], 'gthread'],
  [['--factory', 'flaskr:create_app'], 'gevent'],
] as const) {
  test(
    `flaskr, APP ${form.join(' ')} on ${workerClass}: serves the blog, Ctrl+C exits 0`,
    { skip },
    async (t) => {
      const dir = await flaskr(t);
      const run = startArbiter(
        t,
        ['--python', PYTHON, '--no-reload', '-w', '1', '-k', workerClass, '-b', '127.0.0.1:0', ...form],
        { cwd: dir },
      );
      await run.ready(1);
      const page = await get(await run.port(), '/');
      assert.equal(page.status, 200, page.body);
      assert.match(page.body, INDEX);
      run.signal('SIGINT');
      assert.equal((await run.waitExit()).code, 0, run.output);
      await waitGone(run.workerPids(), 2000);
    },
  );
}

test(
  `flaskr, sync workers: a template edit goes live, 0 failed requests across ${RELOADS} reloads under load`,
  { skip },
  async (t) => {
    await checkRealApp(t, {
      dir: await flaskr(t),
      args: ['--python', PYTHON, 'flaskr:create_app()'],
      path: '/',
      answers: INDEX,
      edit: {
        file: 'flaskr/templates/blog/index.html',
        from: '{% block title %}Posts{% endblock %}',
        to: '{% block title %}Edited posts{% endblock %}',
      },
      answersAfter: /<h1>Edited posts<\/h1>/,
      reloads: RELOADS,
      freshAfterReload: true,
      stop: 'SIGINT',
    });
  },
);
