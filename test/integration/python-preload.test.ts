/**
 * Warm standbys, the Python runtime's side (issue 15), without the arbiter: a worker started as
 * the arbiter starts one reports the third-party modules it serves with (`dependencies`), and
 * a standby given that list (`preload`, before its `boot`) imports them ahead, says what it
 * did (`preloaded`), and then serves the app exactly as a cold worker would: on the real
 * Django, FastAPI + SQLAlchemy and Flask projects, and on a project whose installed packages
 * misbehave at import (one raises, one imports the project, one configures logging).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { get } from '../support/http';
import { startPythonWorker, type Message } from '../support/python-worker';
import { noPythonPackages, python, pythonApp, type PythonAppName } from '../support/real-python-apps';

type Preloaded = {
  loaded: number;
  skipped: number;
  ms: number;
  failed?: { module: string; error: string }[];
};

/** A real project, set up as its own tutorial says. */
const PROJECTS: {
  name: PythonAppName;
  app: string;
  path: string;
  answers: RegExp;
  packages: string[];
  /** Names that must be in its `dependencies`; its own packages must not be. */
  theirs: string[];
  ours: string[];
  /** A module its first request imports: in the follow-up report, ~2 s after ready. */
  firstRequestImports?: string;
  setUp: (dir: string) => Promise<unknown>;
  env?: (dir: string) => NodeJS.ProcessEnv;
}[] = [
  {
    name: 'djsite',
    app: 'djsite.wsgi',
    path: '/catalog/',
    answers: /^Welcome to the catalog: 2 books/,
    packages: ['django', 'gunicorn'],
    theirs: ['django', 'django.db.models', 'django.core.handlers.wsgi', 'django.contrib.auth.models'],
    ours: ['djsite', 'catalog'],
    firstRequestImports: 'django.contrib.messages.storage.fallback',
    setUp: (dir) => python(dir, ['manage.py', 'migrate', '-v', '0']),
  },
  {
    name: 'fastapi-sql',
    app: 'sql_app.main:app',
    path: '/openapi.json',
    answers: /^\{"openapi":"3\.0\.2"/,
    packages: ['fastapi', 'sqlalchemy', 'uvicorn'],
    theirs: ['fastapi', 'starlette.routing', 'pydantic', 'sqlalchemy.orm', 'uvicorn'],
    ours: ['sql_app'],
    setUp: () => Promise.resolve(),
    // SQLite: this test is about imports, and the startup handler's create_all runs on it too.
    env: (dir) => ({ DATABASE_URL: `sqlite:///${join(dir, 'app.db')}` }),
  },
  {
    name: 'flaskr',
    app: 'flaskr:create_app()',
    path: '/',
    answers: /<title>Posts - Flaskr<\/title>/,
    packages: ['flask', 'gunicorn'],
    theirs: ['flask', 'jinja2', 'werkzeug.serving', 'click'],
    ours: ['flaskr'],
    setUp: (dir) => python(dir, ['-m', 'flask', '--app', 'flaskr', 'init-db']),
  },
];

const modulesOf = (message: Message) => message.modules as string[];
const isOurs = (ours: string[]) => (name: string) => ours.some((o) => name === o || name.startsWith(`${o}.`));

/** A cold worker's `dependencies`, once it served `path`: the follow-up, where its first request grew the list. */
async function dependenciesOf(t: TestContext, dir: string, project: (typeof PROJECTS)[number]) {
  const worker = await startPythonWorker(t, dir, project.app, project.env?.(dir));
  worker.boot(project.app);
  await worker.waitFor('ready');
  assert.match((await get(worker.port, project.path)).body, project.answers);
  const first = modulesOf(await worker.waitFor('dependencies'));
  const lazy = project.firstRequestImports;
  if (!lazy) return first;
  assert.ok(!first.includes(lazy), `${lazy} is imported by the first request, after ready`);
  return modulesOf(await worker.waitFor('dependencies', (m) => modulesOf(m).includes(lazy)));
}

for (const project of PROJECTS) {
  test(
    `${project.name}: a serving worker reports its framework's modules and none of the project's; a standby preloaded with them serves the same`,
    { skip: noPythonPackages(...project.packages) },
    async (t) => {
      const dir = pythonApp(t, project.name);
      await project.setUp(dir);
      const reported = await dependenciesOf(t, dir, project);
      for (const name of project.theirs) assert.ok(reported.includes(name), `${name} is in dependencies`);
      assert.deepEqual(reported.filter(isOurs(project.ours)), [], "the project's own modules are not");
      assert.ok(!reported.some((n) => n.startsWith('arbiter')), "nor the runtime's");
      assert.equal(new Set(reported).size, reported.length, 'each once');

      const standby = await startPythonWorker(t, dir, project.app, project.env?.(dir));
      standby.send({ type: 'preload', modules: reported });
      const preloaded = (await standby.waitFor('preloaded')) as Message & Preloaded;
      assert.deepEqual(preloaded.failed ?? [], [], 'nothing failed');
      assert.ok(
        preloaded.loaded >= reported.length * 0.9,
        `most loaded (${preloaded.loaded} of ${reported.length})`,
      );
      assert.ok(preloaded.loaded + preloaded.skipped <= reported.length);
      t.diagnostic(
        `${project.name}: ${reported.length} modules, ${preloaded.loaded} preloaded, ${preloaded.skipped} skipped in ${preloaded.ms} ms`,
      );
      standby.boot(project.app);
      await standby.waitFor('ready');
      assert.match((await get(standby.port, project.path)).body, project.answers);
      // What it reports in turn: the same set (what the app imported after its start included).
      const again = modulesOf(await standby.waitFor('dependencies'));
      assert.deepEqual(again.filter(isOurs(project.ours)), []);
      for (const name of project.theirs) assert.ok(again.includes(name), `${name} is in dependencies again`);
    },
  );
}

test(
  "djsite: what needs Django's settings is skipped, not failed, and its auth models work once the app has set up",
  { skip: noPythonPackages('django', 'gunicorn') },
  async (t) => {
    const dir = pythonApp(t, 'djsite');
    await python(dir, ['manage.py', 'migrate', '-v', '0']);
    const standby = await startPythonWorker(t, dir, 'djsite.wsgi');
    const needsSettings = ['django.contrib.auth.models', 'django.contrib.sessions.models'];
    const fine = ['django.db.models', 'django.contrib.admin', 'django.core.handlers.wsgi'];
    // With the settings module named (as an env file often does), reading a setting would import
    // the project's settings.py: undone and skipped as well.
    const env = { DJANGO_SETTINGS_MODULE: 'djsite.settings' };
    standby.send({ type: 'preload', modules: [fine[0], ...needsSettings, ...fine.slice(1)], env });
    const preloaded = (await standby.waitFor('preloaded')) as Message & Preloaded;
    assert.deepEqual(preloaded.failed ?? [], []);
    assert.equal(preloaded.skipped, needsSettings.length);
    assert.equal(preloaded.loaded, fine.length);
    standby.boot('djsite.wsgi', env);
    await standby.waitFor('ready');
    // The admin's login page (auth's forms and models) and a redirect made from the session's user.
    const login = await get(standby.port, '/admin/login/');
    assert.equal(login.status, 200, login.body);
    assert.match(login.body, /csrfmiddlewaretoken/);
    const admin = await get(standby.port, '/admin/');
    assert.equal(admin.status, 302);
    assert.ok(modulesOf(await standby.waitFor('dependencies')).includes('django.contrib.auth.models'));
  },
);

/** Installed packages that misbehave at import, in a user site-packages folder (PYTHONUSERBASE). */
const PACKAGES: Record<string, string> = {
  'good_pkg/__init__.py': 'from . import helper\n',
  'good_pkg/helper.py': 'VALUE = 1\n',
  // Its helper imports fine before it raises: both must be gone afterwards.
  'raising_pkg/__init__.py': 'from . import helper\nraise RuntimeError("raising_pkg is broken")\n',
  'raising_pkg/helper.py': 'VALUE = 1\n',
  // A package that imports a module of the project (here, its `settings`).
  'project_importer.py': 'import settings\n',
  // Configured once, as Django's settings object is: by a package that reads the project's settings.
  'registry.py': 'CONFIG = None\ndef configure(value):\n    global CONFIG\n    CONFIG = CONFIG or value\n',
  'configuring.py': 'import registry, settings\nregistry.configure(settings.VALUE)\n',
  // basicConfig: the first call wins, so it must not run before the app's own.
  'logging_configurer.py': 'import logging\nlogging.basicConfig(level=logging.DEBUG)\n',
  'env_reader.py':
    'import os\nSEEN = os.environ.get("FROM_ENV_FILE")\nPRESET = os.environ.get("PRESET_BY_PROCESS")\n',
};

/** The project's app: a WSGI callable that says what it finds in sys.modules and the environment. */
const APP = `
import json, logging, os, sys
logging.basicConfig(level=logging.WARNING)
import configuring, env_reader, registry

def app(environ, start_response):
    found = {name: name in sys.modules for name in (
        "good_pkg", "good_pkg.helper", "raising_pkg", "raising_pkg.helper", "project_importer",
        "logging_configurer")}
    found["root_level"] = logging.getLogger().level
    found["config"] = registry.CONFIG
    found["env_reader"] = [env_reader.SEEN, env_reader.PRESET, os.environ.get("FROM_ENV_FILE")]
    body = json.dumps(found).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
`;

test(
  'a package that raises at import is reported in failed and leaves nothing behind; one that imports the project, or configures logging, is skipped and undone; the env is set first',
  { skip: noPythonPackages('gunicorn') },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'arbiter-py-preload-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const userBase = join(dir, 'userbase');
    const env = { PYTHONUSERBASE: userBase, PRESET_BY_PROCESS: 'process' };
    const sitePackages = (
      await python(dir, ['-c', 'import site; print(site.getusersitepackages())'], env)
    ).trim();
    const project = join(dir, 'project');
    for (const [file, text] of Object.entries(PACKAGES)) {
      mkdirSync(join(sitePackages, file, '..'), { recursive: true });
      writeFileSync(join(sitePackages, file), text);
    }
    mkdirSync(project);
    writeFileSync(join(project, 'app.py'), APP);
    writeFileSync(join(project, 'settings.py'), 'VALUE = "as preloaded"\n');

    const standby = await startPythonWorker(t, project, 'app:app', env);
    standby.send({
      type: 'preload',
      modules: [
        'good_pkg',
        'raising_pkg',
        'project_importer',
        'registry',
        'configuring',
        'logging_configurer',
        'env_reader',
      ],
      env: { FROM_ENV_FILE: 'old', PRESET_BY_PROCESS: 'env file' },
    });
    const preloaded = (await standby.waitFor('preloaded')) as Message & Preloaded;
    assert.equal(preloaded.loaded, 3, JSON.stringify(preloaded)); // good_pkg, registry, env_reader
    assert.equal(preloaded.skipped, 3);
    assert.deepEqual(preloaded.failed, [
      { module: 'raising_pkg', error: 'RuntimeError: raising_pkg is broken' },
    ]);
    assert.ok(Number.isInteger(preloaded.ms) && preloaded.ms >= 0);
    // The project changed while the standby waited: the app sees the change.
    writeFileSync(join(project, 'settings.py'), 'VALUE = "as saved"\n');
    // The env file changed before this boot: its value, not the preload's, is the app's.
    standby.boot('app:app', { FROM_ENV_FILE: 'new', PRESET_BY_PROCESS: 'env file' });
    await standby.waitFor('ready');
    const seen = JSON.parse((await get(standby.port, '/')).body) as Record<string, unknown>;
    assert.deepEqual(seen, {
      good_pkg: true,
      'good_pkg.helper': true,
      raising_pkg: false,
      'raising_pkg.helper': false,
      project_importer: false,
      logging_configurer: false,
      root_level: 30, // the app's basicConfig won, as cold
      config: 'as saved', // the project's settings never ran in the preload
      // A module reads the env at import, so it sees the preload's (the process's own value wins);
      // the app's environment is the boot's. Why the arbiter starts cold when the env file changed.
      env_reader: ['old', 'process', 'new'],
    });
    const reported = modulesOf(await standby.waitFor('dependencies'));
    const installed = Object.keys(PACKAGES).map((file) =>
      file.replace(/(\/__init__)?\.py$/, '').replace('/', '.'),
    );
    assert.deepEqual(
      reported.filter((name) => installed.includes(name)).sort(),
      ['configuring', 'env_reader', 'good_pkg', 'good_pkg.helper', 'registry'],
      'the installed ones it holds',
    );
    assert.ok(!reported.includes('app') && !reported.includes('settings'), "not the project's");
  },
);

test(
  'gevent: a gevent worker reports no dependencies (a standby would import them before the patching), and a list holding gevent is not preloaded',
  { skip: noPythonPackages('flask', 'gunicorn', 'gevent') },
  async (t) => {
    const dir = pythonApp(t, 'flaskr');
    await python(dir, ['-m', 'flask', '--app', 'flaskr', 'init-db']);
    const worker = await startPythonWorker(t, dir, 'flaskr:create_app()');
    worker.boot('flaskr:create_app()', undefined, { workerClass: 'gevent' });
    const ready = await worker.waitFor('ready');
    assert.match((await get(worker.port, '/')).body, /<title>Posts - Flaskr<\/title>/);
    // A heartbeat well after the follow-up's 2 s: by then, neither report came.
    const readyAt = worker.arrivedAt(ready);
    await worker.waitFor('heartbeat', (m) => worker.arrivedAt(m) > readyAt + 3000);
    assert.deepEqual(
      worker.messages.filter((m) => m.type === 'dependencies'),
      [],
    );

    const standby = await startPythonWorker(t, dir, 'flaskr:create_app()');
    standby.send({ type: 'preload', modules: ['gevent', 'gevent.monkey', 'flask', 'jinja2'] });
    const preloaded = (await standby.waitFor('preloaded')) as Message & Preloaded;
    assert.equal(preloaded.loaded, 0);
    assert.equal(preloaded.skipped, 4);
    standby.boot('flaskr:create_app()', undefined, { workerClass: 'gevent' });
    await standby.waitFor('ready');
    assert.match((await get(standby.port, '/')).body, /<title>Posts - Flaskr<\/title>/);
  },
);
