/**
 * A `django-admin startproject` site with an app on Django's ORM, unchanged, under the arbiter:
 * on SQLite with gunicorn's sync worker, and on a real PostgreSQL with persistent connections
 * (CONN_MAX_AGE) on the gthread and gevent workers. Each starts from the APP forms gunicorn
 * takes, serves its real page, takes an edit live with 0 failed requests across 20 reloads under
 * load, leaves PostgreSQL with no session of its database, and exits 0 on Ctrl+C.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startArbiter, waitGone } from '../support/arbiter-run';
import { get } from '../support/http';
import { noPostgres, startPostgres, type Postgres } from '../support/postgres';
import { checkRealApp } from '../support/real-app-checks';
import { PYTHON, noPythonPackages, python, pythonApp } from '../support/real-python-apps';

const skip = noPythonPackages('django', 'gunicorn');
const skipPostgres = skip || noPostgres || noPythonPackages('psycopg2', 'gevent');
const RELOADS = 20;
const PAGE = /^Welcome to the catalog: 2 books, first The Left Hand of Darkness by Ursula K\. Le Guin$/;
const EDIT = { file: 'catalog/views.py', from: `'Welcome to the catalog'`, to: `'The edited catalog'` };
const EDITED = /^The edited catalog: 2 books/;

/** A migrated copy of the site: SQLite, or the database `db` of `pg`. */
async function site(t: { after: (fn: () => void) => void }, pg?: { server: Postgres; db: string }) {
  const dir = pythonApp(t, 'djsite');
  const env = pg ? { DJANGO_DB: 'postgres', ...pg.server.env(pg.db) } : {};
  if (pg) await pg.server.createDatabase(pg.db);
  await python(dir, ['manage.py', 'migrate', '-v', '0'], env);
  return { dir, env };
}

for (const app of ['djsite.wsgi', 'djsite.wsgi:application']) {
  test(
    `Django on SQLite, APP ${app} (as gunicorn takes it): serves the catalog, Ctrl+C exits 0`,
    { skip },
    async (t) => {
      const { dir } = await site(t);
      const run = startArbiter(t, ['--python', PYTHON, '--no-reload', '-w', '1', '-b', '127.0.0.1:0', app], {
        cwd: dir,
      });
      await run.ready(1);
      assert.match((await get(await run.port(), '/catalog/')).body, PAGE);
      run.signal('SIGINT');
      assert.equal((await run.waitExit()).code, 0, run.output);
      await waitGone(run.workerPids(), 2000);
    },
  );
}

test(
  `Django on SQLite, sync workers: an edit goes live, 0 failed requests across ${RELOADS} reloads under load`,
  { skip },
  async (t) => {
    const { dir } = await site(t);
    await checkRealApp(t, {
      dir,
      args: ['--python', PYTHON, '-k', 'sync', 'djsite.wsgi'],
      path: '/catalog/',
      answers: PAGE,
      edit: EDIT,
      answersAfter: EDITED,
      reloads: RELOADS,
      freshAfterReload: true,
      stop: 'SIGINT',
    });
  },
);

// One persistent connection per thread: 2 workers of 4 threads hold at most 8. Under gevent,
// each request's greenlet has a connection of its own, so no bound is asserted there.
for (const [workerClass, extra, bound] of [
  ['gthread', ['--threads', '4'], 8],
  ['gevent', [], undefined],
] as const) {
  test(
    `Django on PostgreSQL with CONN_MAX_AGE, ${workerClass} workers: ${RELOADS} reloads under load, 0 failed; 0 sessions after Ctrl+C`,
    { skip: skipPostgres },
    async (t) => {
      const pg = await startPostgres(t);
      const db = 'catalog';
      const { dir, env } = await site(t, { server: pg, db });
      const started = Date.now();
      await checkRealApp(t, {
        dir,
        args: ['--python', PYTHON, '-k', workerClass, ...extra, 'djsite.wsgi:application'],
        env,
        path: '/catalog/',
        answers: PAGE,
        whileServing: async () => {
          // CONN_MAX_AGE: the connection outlives the request.
          assert.ok((await pg.sessions(db)) > 0, 'a persistent connection is open');
        },
        edit: EDIT,
        answersAfter: EDITED,
        reloads: RELOADS,
        freshAfterReload: true,
        beforeStop: async () => {
          // The old generations' connections go with their workers (the last one's may still be
          // leaving): what stays open is the serving generation's.
          let open = await pg.sessions(db);
          for (const until = Date.now() + 5000; bound !== undefined && open > bound && Date.now() < until;) {
            await new Promise((resolve) => setTimeout(resolve, 50));
            open = await pg.sessions(db);
          }
          t.diagnostic(`${open} sessions open after ${RELOADS} reloads`);
          if (bound !== undefined) assert.ok(open <= bound, `${open} sessions, at most ${bound}`);
        },
        stop: 'SIGINT',
        deadlineMs: 30_000,
      });
      t.diagnostic(`${Date.now() - started} ms from start to exit`);
      // Every worker has exited; PostgreSQL ends a backend once its client's socket closes.
      const sessions = await pg.waitSessions(db, 0, 5000);
      assert.equal(sessions, 0);
    },
  );
}
