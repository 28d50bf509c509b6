/**
 * Every setting the arbiter has, described once: its config-file key, its command-line
 * flags, how its value is checked, its default and its help line. The CLI parser, the config
 * loader and `--help` are all driven by this table.
 */
import { DEFAULT_BIND } from './bind-address';
import {
  boolean,
  choice,
  nonNegativeInteger,
  positiveInteger,
  positiveSeconds,
  seconds,
  text,
  textList,
  type Checker,
} from './option-values';

type Definition<T> = {
  checker: Checker<T>;
  default: NoInfer<T>;
  /** Long flag without dashes; absent for config-only settings. */
  flag?: string;
  short?: string;
  /** Whether `--no-FLAG` sets it to false. */
  negatable?: boolean;
  /** Placeholder for the value in --help. */
  metavar?: string;
  help: string;
};

const define = <T>(definition: Definition<T>): Definition<T> => definition;

export const SETTING_DEFINITIONS = {
  bind: define({
    checker: textList,
    default: [DEFAULT_BIND],
    flag: 'bind',
    short: 'b',
    metavar: 'ADDR',
    help: 'listen on HOST:PORT, :PORT, [IPV6]:PORT or unix:PATH (repeatable; port 0 = any free port)',
  }),
  workers: define({
    checker: positiveInteger,
    default: 2,
    flag: 'workers',
    short: 'w',
    metavar: 'N',
    help: 'number of worker processes',
  }),
  gracefulTimeout: define({
    checker: seconds,
    default: 30,
    flag: 'graceful-timeout',
    metavar: 'SEC',
    help: 'how long a stopping worker may drain and run its hooks before it is killed',
  }),
  timeout: define({
    checker: seconds,
    default: 30,
    flag: 'timeout',
    metavar: 'SEC',
    help: 'a worker silent this long is aborted and replaced (0 disables the heartbeat)',
  }),
  bootTimeout: define({
    checker: positiveSeconds,
    default: 30,
    flag: 'boot-timeout',
    metavar: 'SEC',
    help: 'how long a new worker may take to become ready',
  }),
  quickTimeout: define({
    checker: seconds,
    default: 2,
    flag: 'quick-timeout',
    metavar: 'SEC',
    help: 'on a quick stop (QUIT, 2nd Ctrl+C), how long workers get for their quick hooks',
  }),
  maxRequests: define({
    checker: nonNegativeInteger,
    default: 0,
    flag: 'max-requests',
    metavar: 'N',
    help: 'recycle a worker gracefully after N requests (0 = never)',
  }),
  maxRequestsJitter: define({
    checker: nonNegativeInteger,
    default: 0,
    flag: 'max-requests-jitter',
    metavar: 'N',
    help: 'add 0..N at random to each worker’s max-requests, so workers do not recycle together',
  }),
  reload: define({
    checker: boolean,
    default: true,
    flag: 'reload',
    negatable: true,
    help: 'watch the project and cycle the workers on change (--no-reload to turn off)',
  }),
  reloadMode: define({
    checker: choice(['graceful', 'replace'] as const),
    default: 'graceful',
    flag: 'reload-mode',
    metavar: 'MODE',
    help: 'graceful: the new generation boots beside the old; replace: stop the old, then start the new (for apps that cannot run twice at once)',
  }),
  standby: define({
    checker: boolean,
    default: true,
    flag: 'standby',
    negatable: true,
    help: 'keep one started worker process per worker waiting for the next cycle, so a reload skips Node’s start-up (--no-standby saves their memory)',
  }),
  preload: define({
    checker: boolean,
    default: true,
    flag: 'preload',
    negatable: true,
    help: 'standbys load ahead the third-party modules (node_modules, site-packages) the serving workers loaded, so a reload pays only for the project’s own code (--no-preload: they load nothing ahead)',
  }),
  longLivedGrace: define({
    checker: seconds,
    default: 1,
    flag: 'long-lived-grace',
    metavar: 'SEC',
    help: 'how long a stopping worker keeps SSE and WebSocket connections before closing them',
  }),
  watch: define({
    checker: textList,
    default: [] as string[],
    flag: 'watch',
    metavar: 'GLOB',
    help: 'only changes to files matching GLOB start a cycle (repeatable; default: every file not ignored)',
  }),
  ignore: define({
    checker: textList,
    default: [] as string[],
    flag: 'ignore',
    metavar: 'GLOB',
    help: 'never watch files matching GLOB (repeatable; node_modules, .git, build output and .gitignore are ignored already)',
  }),
  stopOnStdinClose: define({
    checker: boolean,
    default: false,
    flag: 'stop-on-stdin-close',
    help: 'stop gracefully when stdin closes: for tools that start the arbiter through a pipe, so it never outlives them',
  }),
  inspect: define({
    checker: boolean,
    default: false,
    flag: 'inspect',
    help: "open every worker's inspector on 127.0.0.1 and a free port, and print its address (events carry it too)",
  }),
  stdinCommands: define({
    checker: boolean,
    default: false,
    flag: 'stdin-commands',
    help: 'read commands from stdin, one JSON object a line (docs/events.md): for tools that drive the arbiter',
  }),
  envFile: define({
    checker: textList,
    default: [] as string[],
    flag: 'env-file',
    metavar: 'FILE',
    help: "load environment variables from FILE, as Node's --env-file does (repeatable; later files win, the environment wins over all); a change reloads",
  }),
  events: define({
    checker: textList,
    default: [] as string[],
    flag: 'events',
    metavar: 'FILE',
    help: 'append the event stream (one JSON object a line) to FILE (repeatable)',
  }),
  python: define({
    checker: text,
    default: 'python3',
    flag: 'python',
    metavar: 'PATH',
    help: 'the Python interpreter that runs a module:callable APP (WSGI or ASGI)',
  }),
  interface: define({
    checker: choice(['auto', 'wsgi', 'asgi', 'rsgi'] as const),
    default: 'auto',
    flag: 'interface',
    metavar: 'KIND',
    help: "a Python APP is wsgi (served by gunicorn) or asgi (served by uvicorn); rsgi (granian's) runs __rsgi_init__/__rsgi_del__ around the app's ASGI or WSGI face; auto looks at the callable",
  }),
  workerClass: define({
    checker: choice(['auto', 'sync', 'gthread', 'gevent'] as const),
    default: 'auto',
    flag: 'worker-class',
    short: 'k',
    metavar: 'CLASS',
    help: "gunicorn's worker class for a WSGI APP; auto takes gunicorn.conf.py's, else sync",
  }),
  threads: define({
    checker: nonNegativeInteger,
    default: 0,
    flag: 'threads',
    metavar: 'N',
    help: "threads per gthread worker (0: gunicorn.conf.py's, else gunicorn's default)",
  }),
  factory: define({
    checker: boolean,
    default: false,
    flag: 'factory',
    help: 'a Python APP names a factory: call it to get the app, as uvicorn --factory does (module:factory() says the same)',
  }),
  gunicornConfig: define({
    checker: text,
    default: '',
    flag: 'gunicorn-config',
    metavar: 'FILE',
    help: 'gunicorn config for a Python APP: its settings and hooks (default: ./gunicorn.conf.py if present)',
  }),
  app: define({ checker: text, default: '', help: 'the app to run (the APP argument)' }),
} as const;

export type SettingName = keyof typeof SETTING_DEFINITIONS;
/** A setting's value as its checker types it: a choice stays its union of literals. */
type ValueOf<K extends SettingName> =
  (typeof SETTING_DEFINITIONS)[K]['checker'] extends Checker<infer V>
    ? V extends readonly string[]
      ? string[]
      : V
    : never;

/** The plain settings, after defaults, config file and command line are merged. */
export type Settings = { [K in SettingName]: ValueOf<K> };

/** Settings as far as one source (config file or command line) gave them. */
export type PartialSettings = Partial<Settings>;

export const SETTING_NAMES = Object.keys(SETTING_DEFINITIONS) as SettingName[];

export function defaultSettings(): Settings {
  const settings = {} as Record<string, unknown>;
  for (const name of SETTING_NAMES) {
    const value = SETTING_DEFINITIONS[name].default;
    settings[name] = Array.isArray(value) ? [...value] : value;
  }
  return settings as Settings;
}
