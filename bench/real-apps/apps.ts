/**
 * The real-app fixtures the benchmark runs (test/fixtures/real-apps, real-python-apps), each
 * with the one edit a user would make (a route's response text, with a version counter so that
 * every save gives an answer of its own), the shutdown hook whose runs are counted where the
 * fixture has one, and how a fresh copy is made ready to serve.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { realApp, type RealAppName } from '../../test/support/real-apps';
import { python } from '../../test/support/real-python-apps';
import { startPostgres, noPostgres, type Postgres } from '../../test/support/postgres';
import { ROOT } from '../arbiter-server';

/** A line the benchmark's copy of a hook prints when it has run to its end. */
export const HOOK_MARK = 'arbiter-bench: shutdown hook ran';

export type AppName = Exclude<RealAppName, 'next'> | 'djsite' | 'fastapi-sql' | 'flaskr';

export type AppSpec = {
  name: AppName;
  language: 'node' | 'python';
  /** What the fixture is, for the table. */
  title: string;
  /** The path a user opens, the status it answers, and its body at each version. */
  path: string;
  status: number;
  answer: (version: number) => RegExp;
  /** Any version's answer: what a request under load must get. */
  anyAnswer: RegExp;
  /** The edit: in `file`, the literal `from` becomes `to(version)`. */
  edit: { file: string; from: string; to: (version: number) => string };
  /** The fixture's own shutdown hook, and the line after which its copy prints HOOK_MARK. */
  hook?: { name: string; file: string; after: string; print: string };
  /** Textual changes to the copy, made for every runner alike (and said in the notes). */
  patches?: { file: string; from: string; to: string; why: string }[];
  /** Why this app cannot be measured here, or undefined. */
  missing?: () => string | undefined;
};

/**
 * A copy of the app, ready to be served at version 1 of the edit, the environment its runners
 * need, and the edited file as it was before (what each version is made from).
 */
export type PreparedApp = { dir: string; env: NodeJS.ProcessEnv; original: string; dispose: () => void };

const jsQuoted = (text: string, version: number) => `'${text} v${version}'`;
const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function nodeApp(
  name: AppSpec['name'],
  title: string,
  path: string,
  file: string,
  text: string,
  extra: Partial<AppSpec> = {},
): AppSpec {
  return {
    name,
    language: 'node',
    title,
    path,
    status: 200,
    answer: (version) => new RegExp(`^${escaped(text)} v${version}$`),
    anyAnswer: new RegExp(`^${escaped(text)} v\\d+$`),
    edit: { file, from: `'${text}'`, to: (version) => jsQuoted(text, version) },
    ...extra,
  };
}

const PY_PACKAGES = '/usr/lib/python3/dist-packages';
const missingPython =
  (...packages: string[]) =>
  (): string | undefined => {
    const absent = packages.filter((name) => {
      try {
        readFileSync(join(PY_PACKAGES, name, '__init__.py'));
        return false;
      } catch {
        return true;
      }
    });
    return absent.length
      ? `Debian's python3 packages missing: ${absent.join(', ')} (see .ci/run)`
      : undefined;
  };

export const APPS: readonly AppSpec[] = [
  nodeApp('nest', 'NestJS 12 starter (ES modules)', '/', 'src/app.service.ts', 'Hello World!', {
    hook: {
      name: 'onModuleDestroy (AppService)',
      file: 'src/app.service.ts',
      after: 'await new Promise((resolve) => setTimeout(resolve, 20));',
      print: `\n    console.log('${HOOK_MARK}');`,
    },
  }),
  nodeApp(
    'fastify-ts',
    'fastify-cli generate --lang=ts',
    '/example',
    'src/routes/example/index.ts',
    'this is an example',
  ),
  nodeApp(
    'express',
    'express-generator (Express 4.16)',
    '/users',
    'routes/users.js',
    'respond with a resource',
  ),
  nodeApp('koa', "Koa 3, as Koa's examples", '/', 'app.js', 'Hello Koa'),
  nodeApp('hono', "create-hono's nodejs template (ESM, TypeScript)", '/', 'src/index.ts', 'Hello Hono!', {
    patches: [
      {
        file: 'src/index.ts',
        from: 'port: 3000',
        to: 'port: Number(process.env.PORT ?? 3000)',
        why: "the template's hard-coded port 3000 reads `PORT`, so that each peer gets a free port",
      },
    ],
  }),
  {
    name: 'djsite',
    language: 'python',
    title: 'django-admin startproject + a catalog app (Django 3.2, SQLite)',
    path: '/catalog/',
    status: 200,
    answer: (version) => new RegExp(`^Welcome to the catalog v${version}: 2 books`),
    anyAnswer: /^Welcome to the catalog v\d+: 2 books/,
    edit: {
      file: 'catalog/views.py',
      from: `'Welcome to the catalog'`,
      to: (version) => `'Welcome to the catalog v${version}'`,
    },
    missing: missingPython('django', 'gunicorn'),
  },
  {
    name: 'fastapi-sql',
    language: 'python',
    title: "FastAPI's SQL tutorial (FastAPI 0.92, SQLAlchemy 1.4, PostgreSQL 15)",
    path: '/users/999',
    status: 404,
    answer: (version) => new RegExp(`^\\{"detail":"User not found v${version}"\\}$`),
    anyAnswer: /^\{"detail":"User not found v\d+"\}$/,
    edit: {
      file: 'sql_app/main.py',
      from: `detail="User not found"`,
      to: (version) => `detail="User not found v${version}"`,
    },
    hook: {
      name: 'shutdown handler (close_pool)',
      file: 'sql_app/main.py',
      after: 'engine.dispose()',
      print: `\n    print("${HOOK_MARK}", flush=True)`,
    },
    missing: () =>
      missingPython('fastapi', 'sqlalchemy', 'psycopg2', 'uvicorn')() ||
      (noPostgres ? `PostgreSQL: ${noPostgres}` : undefined),
  },
  {
    name: 'flaskr',
    language: 'python',
    title: "Flask's tutorial, flaskr (Flask 2.2)",
    path: '/hello',
    status: 200,
    answer: (version) => new RegExp(`^Hello, World! v${version}$`),
    anyAnswer: /^Hello, World! v\d+$/,
    edit: {
      file: 'flaskr/__init__.py',
      from: `"Hello, World!"`,
      to: (version) => `"Hello, World! v${version}"`,
    },
    missing: missingPython('flask', 'gunicorn'),
  },
];

/** Writes version `version` of the edited file. */
export function writeVersion(app: AppSpec, dir: string, original: string, version: number): void {
  writeFileSync(join(dir, app.edit.file), original.replace(app.edit.from, app.edit.to(version)));
}

/** Makes the patches and the hook's print in the copy; returns the edited file as it then is. */
function patch(app: AppSpec, dir: string): string {
  const changes = [
    ...(app.patches ?? []),
    ...(app.hook ? [{ file: app.hook.file, from: app.hook.after, to: app.hook.after + app.hook.print }] : []),
  ];
  for (const change of changes) {
    const file = join(dir, change.file);
    const text = readFileSync(file, 'utf8');
    if (!text.includes(change.from)) throw new Error(`${app.name}: ${change.file} has no ${change.from}`);
    writeFileSync(file, text.replace(change.from, change.to));
  }
  const original = readFileSync(join(dir, app.edit.file), 'utf8');
  if (!original.includes(app.edit.from))
    throw new Error(`${app.name}: ${app.edit.file} has no ${app.edit.from}`);
  writeVersion(app, dir, original, 1);
  return original;
}

const FIXTURES = resolve(ROOT, 'test/fixtures/real-python-apps');

/** Set-up that outlives one runner: PostgreSQL for the FastAPI app. */
export type AppServices = { postgres?: Postgres; stop: () => Promise<void> };

export async function startServices(app: AppSpec): Promise<AppServices> {
  if (app.name !== 'fastapi-sql') return { stop: async () => {} };
  const cleanups: (() => Promise<void>)[] = [];
  const postgres = await startPostgres({ after: (fn) => cleanups.push(fn) });
  return { postgres, stop: async () => void (await Promise.allSettled(cleanups.map((fn) => fn()))) };
}

/**
 * A fresh copy of the app for one runner: the Node apps in their installed folder, sources put
 * back as committed (test/support/real-apps.ts); the Python apps in a temporary folder, migrated
 * or seeded as their tutorials say.
 */
export async function prepare(app: AppSpec, services: AppServices, runner: string): Promise<PreparedApp> {
  if (app.language === 'node') {
    const dir = realApp(app.name as RealAppName);
    return { dir, env: {}, original: patch(app, dir), dispose: () => undefined };
  }
  const dir = mkdtempSync(join(os.tmpdir(), `arbiter-bench-${app.name}-`));
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  try {
    cpSync(join(FIXTURES, app.name), dir, { recursive: true });
    const original = patch(app, dir);
    // A rewrite within the same second and of the same size could be served from a stale
    // __pycache__ (its check is mtime in seconds + size): no bytecode is written, for every runner.
    const env: NodeJS.ProcessEnv = { PYTHONDONTWRITEBYTECODE: '1' };
    if (app.name === 'djsite') await python(dir, ['manage.py', 'migrate', '-v', '0'], env);
    if (app.name === 'flaskr') await python(dir, ['-m', 'flask', '--app', 'flaskr', 'init-db'], env);
    if (app.name === 'fastapi-sql') {
      // A database of its own per runner: each starts from the same empty tables.
      const db = `bench_${runner.replace(/\W+/g, '_')}`;
      await services.postgres!.createDatabase(db);
      env.DATABASE_URL = services.postgres!.url(db);
    }
    return { dir, env, original, dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}
