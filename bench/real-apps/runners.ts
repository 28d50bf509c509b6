/**
 * Which runners a user of each real app would pick, and how each is started: the generator's
 * own dev script first where it has one, the restart-based reloaders of its language, `bun
 * --hot` for the Node apps, and the arbiter. Every command runs with the app's folder as cwd,
 * listens on the port the benchmark picked (`PORT`, or the runner's own flag), and is otherwise
 * left at its defaults.
 */
import { join, resolve } from 'node:path';
import { ROOT } from '../arbiter-server';
import type { AppName } from './apps';
import { PEERS_BIN } from './install';
import type { Command } from './processes';

export const PYTHON = '/usr/bin/python3';

/** How a runner relates to the targets: the arbiter, a peer that restarts, or one that swaps in place. */
export type RunnerKind = 'arbiter' | 'restart' | 'hot';

export type RunnerSpec = {
  /** The name in the table. */
  name: string;
  kind: RunnerKind;
  /** Processes a reload replaces, each of which owes the app's shutdown hook one run. */
  processesPerReload: number;
  /** The command line, for the notes. */
  shown: string;
  /** Commands run once before the runner starts (the build of a compile-then-watch script). */
  before?: Command[];
  /** The peer's commands (all started, each in its own group); the arbiter's are its own. */
  commands?: (port: number) => Command[];
  /** The arbiter's options and APP with its arguments, after `-w N -b ADDR --reload`. */
  arbiterArgs?: string[];
  /** A line of its output that says it watches (tsc -w's first build done), awaited before the first save. */
  readyLine?: RegExp;
  /** Why a runner a user might pick is not run on this app: shown in the table instead. */
  skip?: string;
};

const NODEMON = resolve(ROOT, 'node_modules/.bin/nodemon');
const ROOT_TSX = resolve(ROOT, 'node_modules/.bin/tsx');
const BUN = join(PEERS_BIN, 'bun');
const NEST = join(PEERS_BIN, 'nest');
const TS_NODE_DEV = join(PEERS_BIN, 'ts-node-dev');
const FASTIFY_CLI = 'node_modules/fastify-cli/cli.js';
/** The app's own installed tools (its tsx, tsc), found from its cwd. */
const local = (bin: string) => `node_modules/.bin/${bin}`;

/**
 * TypeScript 6 refuses the template's tsconfig without a rootDir (TS5011, "The common source
 * directory of 'tsconfig.json' is './src'"), so the build that fastify-cli's template runs is
 * given the one it would have inferred before.
 */
const TSC = [local('tsc'), ['--rootDir', 'src']] as const;

const withPort = (port: number, env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  PORT: String(port),
  ...env,
});

function peer(
  name: string,
  shown: string,
  command: string,
  args: string[],
  extra: Partial<RunnerSpec> = {},
): RunnerSpec {
  return {
    name,
    kind: 'restart',
    processesPerReload: 1,
    shown,
    commands: (port) => [{ command, args, env: withPort(port) }],
    ...extra,
  };
}

const bunHot = (entry: string[]): RunnerSpec =>
  peer('bun --hot', `bun --hot ${entry.join(' ')}`, BUN, ['--hot', ...entry], {
    kind: 'hot',
    // It replaces no process, but its hook would be as due as a restart's.
    processesPerReload: 1,
  });

export const arbiter = (workers: number, args: string[]): RunnerSpec => ({
  name: `arbiter -w ${workers}`,
  kind: 'arbiter',
  processesPerReload: workers,
  shown: `arbiter -w ${workers} -b 127.0.0.1:PORT --reload ${args.join(' ')}`,
  arbiterArgs: args,
});

/** What runs each app, the arbiter apart (its APP and arguments are in `ARBITER_APP`). */
export const PEERS: Record<AppName, RunnerSpec[]> = {
  nest: [
    // The starter's `npm run start:dev`.
    peer('nest start --watch', 'nest start --watch (@nestjs/cli 12.0.8)', NEST, ['start', '--watch']),
    bunHot(['src/main.ts']),
    notRun('ts-node-dev', 'it cannot load the starter\'s ES modules ("Must use import to load ES Module")'),
    notRun(
      'tsx watch',
      "tsx (esbuild) emits no decorator metadata, which Nest's constructor injection needs",
    ),
  ],
  'fastify-ts': [
    // The generator's `npm run dev`: tsc -w beside `fastify start -w` on the compiled dist/ (its
    // template's dev:start), after a first build as its `npm run build:ts` does.
    compiled('fastify start -w', 'fastify start --ignore-watch=.ts$ -w -l info -P dist/app.js', [
      FASTIFY_CLI,
      'start',
      '--ignore-watch=.ts$',
      '-w',
      '-l',
      'info',
      '-P',
      'dist/app.js',
    ]),
    // As its README starts it; the rootDir for the reason TSC gives.
    peer(
      'ts-node-dev',
      `ts-node-dev --respawn --transpile-only -O '{"rootDir":"src"}' ${FASTIFY_CLI} start -l info src/app.ts`,
      TS_NODE_DEV,
      [
        '--respawn',
        '--transpile-only',
        '-O',
        '{"rootDir":"src"}',
        FASTIFY_CLI,
        'start',
        '-l',
        'info',
        'src/app.ts',
      ],
    ),
    notRun(
      'bun --hot',
      'on src/, fastify-cli fails to load the app under bun ("undefined is not an object (evaluating \'plugin.constructor.name\')"); on the dist/ that tsc -w keeps current, an edit was not live within 30 s',
    ),
  ],
  express: [
    peer('nodemon', 'nodemon bin/www', NODEMON, ['bin/www']),
    peer('node --watch', 'node --watch bin/www', process.execPath, ['--watch', 'bin/www']),
    bunHot(['bin/www']),
  ],
  koa: [
    peer('nodemon', 'nodemon app.js', NODEMON, ['app.js']),
    peer('node --watch', 'node --watch app.js', process.execPath, ['--watch', 'app.js']),
    bunHot(['app.js']),
  ],
  hono: [
    // The template's `npm run dev`, with its own tsx.
    peer('tsx watch', 'tsx watch src/index.ts', local('tsx'), ['watch', 'src/index.ts']),
    peer('nodemon + tsx', 'nodemon -e ts --exec tsx src/index.ts', NODEMON, [
      '-e',
      'ts',
      '--exec',
      ROOT_TSX,
      'src/index.ts',
    ]),
    bunHot(['src/index.ts']),
  ],
  djsite: [
    {
      name: 'manage.py runserver',
      kind: 'restart',
      processesPerReload: 1,
      shown: 'python3 manage.py runserver 127.0.0.1:PORT',
      commands: (port) => [{ command: PYTHON, args: ['manage.py', 'runserver', `127.0.0.1:${port}`] }],
    },
    gunicorn('djsite.wsgi'),
  ],
  'fastapi-sql': [
    {
      name: 'uvicorn --reload',
      kind: 'restart',
      processesPerReload: 1,
      shown: 'python3 -m uvicorn --reload --port PORT sql_app.main:app',
      commands: (port) => [
        {
          command: PYTHON,
          args: [
            '-m',
            'uvicorn',
            '--reload',
            '--host',
            '127.0.0.1',
            '--port',
            String(port),
            'sql_app.main:app',
          ],
        },
      ],
    },
  ],
  flaskr: [
    {
      name: 'flask run --reload',
      kind: 'restart',
      processesPerReload: 1,
      shown: 'python3 -m flask --app flaskr run --reload -p PORT',
      commands: (port) => [
        {
          command: PYTHON,
          args: ['-m', 'flask', '--app', 'flaskr', 'run', '--reload', '-h', '127.0.0.1', '-p', String(port)],
        },
      ],
    },
    gunicorn('flaskr:create_app()'),
  ],
};

/** `runner` on dist/, with `tsc -w` beside it and a first build before, as the template's `dev`. */
function compiled(name: string, shownRunner: string, args: string[]): RunnerSpec {
  return {
    name,
    kind: 'restart',
    processesPerReload: 1,
    readyLine: /Watching for file changes/,
    shown: `tsc --rootDir src && (tsc --rootDir src -w & ${shownRunner})`,
    before: [{ command: TSC[0], args: [...TSC[1]] }],
    commands: (port) => [
      { command: TSC[0], args: [...TSC[1], '-w', '--preserveWatchOutput'] },
      { command: process.execPath, args, env: withPort(port) },
    ],
  };
}

/** A runner this app's users might pick that cannot run it, and why. */
function notRun(name: string, why: string): RunnerSpec {
  return { name, kind: 'restart', processesPerReload: 1, shown: '', skip: why };
}

function gunicorn(app: string): RunnerSpec {
  return {
    name: 'gunicorn --reload',
    kind: 'restart',
    processesPerReload: 1,
    shown: `python3 -m gunicorn --reload -b 127.0.0.1:PORT ${app}`,
    commands: (port) => [
      { command: PYTHON, args: ['-m', 'gunicorn', '--reload', '-b', `127.0.0.1:${port}`, app] },
    ],
  };
}

/** The arbiter's APP and arguments for each app, as the real-app tests run them. */
export const ARBITER_APP: Record<AppName, string[]> = {
  nest: ['src/main.ts'],
  'fastify-ts': [FASTIFY_CLI, 'start', '-l', 'info', 'src/app.ts'],
  express: ['bin/www'],
  koa: ['app.js'],
  hono: ['src/index.ts'],
  djsite: ['--python', PYTHON, 'djsite.wsgi'],
  'fastapi-sql': ['--python', PYTHON, 'sql_app.main:app'],
  flaskr: ['--python', PYTHON, 'flaskr:create_app()'],
};
