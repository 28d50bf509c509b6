/**
 * FastAPI's SQL tutorial app (SQLAlchemy on a real PostgreSQL, a startup and a shutdown
 * handler), unchanged, under the arbiter with uvicorn's ASGI worker: it starts from the APP forms
 * uvicorn takes, serves its users from the database, takes an edit live with 0 failed requests
 * and 0 resets across 20 reloads under load, runs its shutdown handler (the pool is disposed of)
 * and leaves PostgreSQL with no session of its database after Ctrl+C, which exits 0.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { startArbiter, waitGone } from '../support/arbiter-run';
import { get } from '../support/http';
import { noPostgres, startPostgres, type Postgres } from '../support/postgres';
import { checkRealApp } from '../support/real-app-checks';
import { PYTHON, noPythonPackages, python, pythonApp } from '../support/real-python-apps';

const skip = noPythonPackages('fastapi', 'sqlalchemy', 'psycopg2', 'uvicorn') || noPostgres;
const RELOADS = 20;
const USERS = /^\[\{"email":"ada@example\.com","id":1,"is_active":true,"items":\[\]\}\]$/;

/** The tutorial's tables and one user, made with the app's own crud module (its "migration"). */
const SEED = `
from sql_app import crud, models, schemas
from sql_app.database import SessionLocal, engine
models.Base.metadata.create_all(bind=engine)
with SessionLocal() as db:
    crud.create_user(db, schemas.UserCreate(email="ada@example.com", password="secret"))
engine.dispose()
`;

async function tutorial(t: TestContext): Promise<{ dir: string; pg: Postgres; env: NodeJS.ProcessEnv }> {
  const pg = await startPostgres(t);
  await pg.createDatabase('fastapi');
  const dir = pythonApp(t, 'fastapi-sql');
  const env = { DATABASE_URL: pg.url('fastapi') };
  await python(dir, ['-c', SEED], env);
  return { dir, pg, env };
}

for (const form of [['sql_app.main:app'], ['--interface', 'asgi', 'sql_app.main:app']]) {
  test(
    `FastAPI, APP ${form.join(' ')} (as uvicorn takes it): serves /users/, Ctrl+C exits 0`,
    { skip },
    async (t) => {
      const { dir, pg, env } = await tutorial(t);
      const run = startArbiter(
        t,
        ['--python', PYTHON, '--no-reload', '-w', '1', '-b', '127.0.0.1:0', ...form],
        {
          cwd: dir,
          env,
        },
      );
      await run.ready(1);
      assert.match((await get(await run.port(), '/users/')).body, USERS);
      run.signal('SIGINT');
      assert.equal((await run.waitExit()).code, 0, run.output);
      await waitGone(run.workerPids(), 2000);
      assert.equal(await pg.waitSessions('fastapi', 0, 5000), 0);
    },
  );
}

test(
  `FastAPI on PostgreSQL, ASGI workers: an edit goes live, 0 failed requests across ${RELOADS} reloads under load; the shutdown handler runs; 0 sessions after Ctrl+C`,
  { skip },
  async (t) => {
    const { dir, pg, env } = await tutorial(t);
    const started = Date.now();
    const run = await checkRealApp(t, {
      dir,
      args: ['--python', PYTHON, 'sql_app.main:app'],
      env,
      path: '/users/',
      answers: USERS,
      whileServing: async () =>
        assert.ok((await pg.sessions('fastapi')) > 0, "the engine's pool holds a connection"),
      edit: {
        file: 'sql_app/main.py',
        from: 'def read_users(skip: int = 0, limit: int = 100',
        to: 'def read_users(skip: int = 0, limit: int = 0',
      },
      answersAfter: /^\[\]$/,
      reloads: RELOADS,
      freshAfterReload: true,
      stop: 'SIGINT',
    });
    t.diagnostic(`${Date.now() - started} ms from start to exit`);
    const shutdowns = run
      .all('hook')
      .filter((e) => e.phase === 'end' && /shutdown/.test(e.name))
      .map((e) => e.outcome);
    assert.ok(
      shutdowns.length >= 2 && shutdowns.every((outcome) => outcome === 'ok'),
      JSON.stringify(shutdowns),
    );
    assert.equal(await pg.waitSessions('fastapi', 0, 5000), 0);
  },
);
