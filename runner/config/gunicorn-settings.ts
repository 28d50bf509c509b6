/**
 * gunicorn.conf.py's settings, as the arbiter takes them: a conf written for gunicorn runs here
 * with the same meaning, the command line (and arbiter.config.*) winning over it. Three kinds:
 * - settings of gunicorn's master, which the arbiter is: bind, workers, timeouts, max requests,
 *   the worker class and threads, the app (`wsgi_app`) — taken over as arbiter settings;
 * - settings the arbiter cannot honour that change where or as whom the server runs (`daemon`,
 *   `pidfile`, `user`, …) — refused with one line, never silently dropped;
 * - settings that mean nothing in dev mode here (`preload_app`, `reload`, `proc_name`, …) —
 *   named in one line, and left out.
 * Everything else (keepalive, limits, logging, TLS, raw_env, pythonpath) is a worker's setting:
 * the workers run gunicorn's own worker classes with the conf loaded, so gunicorn applies it.
 */
import { UsageError } from '../errors/usage-error';
import type { PartialSettings } from './settings';

/** What the conf gives, and what the arbiter makes of it. */
export type GunicornSettings = {
  /** Arbiter settings from the conf (the command line and arbiter.config.* still win). */
  settings: PartialSettings;
  /** `wsgi_app`: the APP, when none is given on the command line. */
  app?: string;
  /** Settings left out, for one line at start. */
  ignored: string[];
};

/** Master settings the arbiter cannot honour: running with them would be a silent lie. */
const REFUSED: Record<string, string> = {
  daemon: 'the arbiter runs in the foreground',
  pidfile: 'the arbiter writes no pid file',
  user: 'the arbiter does not switch users',
  group: 'the arbiter does not switch groups',
  initgroups: 'the arbiter does not switch groups',
  umask: 'the arbiter does not change its umask',
  chdir: 'the arbiter serves from the folder it was started in: start it there',
};

/** Settings without meaning here: named, then left out. */
const IGNORED: Record<string, string> = {
  preload_app: 'each worker imports the app itself',
  reload: 'the arbiter reloads on change (--no-reload turns it off)',
  reload_engine: 'the arbiter has its own watcher',
  reload_extra_files: 'the arbiter watches the whole project',
  proc_name: 'not used',
  default_proc_name: 'not used',
  backlog: 'the arbiter listens with a backlog of its own',
  reuse_port: 'the arbiter owns the socket',
  worker_tmp_dir: 'heartbeats travel over the control channel',
  check_config: 'not used',
  print_config: 'not used',
  spew: 'not used',
  statsd_host: 'not used',
  statsd_prefix: 'not used',
  dogstatsd_tags: 'not used',
  enable_stdio_inheritance: 'not used',
};

/** gunicorn's worker classes the arbiter runs, by the names gunicorn takes. */
const WORKER_CLASSES: Record<string, 'sync' | 'gthread' | 'gevent' | 'asgi'> = {
  sync: 'sync',
  'gunicorn.workers.sync.SyncWorker': 'sync',
  gthread: 'gthread',
  'gunicorn.workers.gthread.ThreadWorker': 'gthread',
  gevent: 'gevent',
  'gunicorn.workers.ggevent.GeventWorker': 'gevent',
  // gunicorn running uvicorn, as FastAPI's docs deploy it: an ASGI app on uvicorn here.
  'uvicorn.workers.UvicornWorker': 'asgi',
  'uvicorn.workers.UvicornH11Worker': 'asgi',
};

/** Values gunicorn's defaults have: the conf repeating them asks for nothing. */
const DEFAULTS: Record<string, unknown> = {
  daemon: false,
  pidfile: null,
  user: process.getuid?.(),
  group: process.getgid?.(),
  initgroups: false,
  umask: 0,
  preload_app: false,
  reload: false,
  reload_extra_files: [],
  reuse_port: false,
  check_config: false,
  print_config: false,
  spew: false,
  statsd_host: null,
  enable_stdio_inheritance: false,
};

const number = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

/** Maps `described` (master_hooks.py --describe's settings) of `file`; throws a UsageError for a refused one. */
export function gunicornSettings(
  described: Record<string, unknown>,
  file: string,
  cwd: string,
): GunicornSettings {
  const result: GunicornSettings = { settings: {}, ignored: [] };
  const refused: string[] = [];
  for (const [name, value] of Object.entries(described)) {
    if (name in DEFAULTS && JSON.stringify(DEFAULTS[name]) === JSON.stringify(value)) continue;
    if (name === 'chdir' && value === cwd) continue;
    if (name in REFUSED) refused.push(`${name} (${REFUSED[name]})`);
    else if (name in IGNORED) result.ignored.push(`${name} (${IGNORED[name]})`);
  }
  if (refused.length > 0)
    throw new UsageError(
      `${file} sets what the arbiter cannot do: ${refused.join(', ')}; remove them for development, or run gunicorn itself`,
    );
  const { settings } = result;
  if (Array.isArray(described.bind) && described.bind.length > 0) {
    const binds = described.bind.map(String);
    const fd = binds.find((bind) => bind.startsWith('fd://'));
    if (fd)
      throw new UsageError(
        `${file}: bind ${fd}: the arbiter binds its own sockets (use HOST:PORT or unix:PATH)`,
      );
    settings.bind = binds;
  }
  const workers = number(described.workers);
  if (workers !== undefined) settings.workers = workers;
  const timeout = number(described.timeout);
  if (timeout !== undefined) settings.timeout = timeout;
  const graceful = number(described.graceful_timeout);
  if (graceful !== undefined) settings.gracefulTimeout = graceful;
  const maxRequests = number(described.max_requests);
  if (maxRequests !== undefined) settings.maxRequests = maxRequests;
  const jitter = number(described.max_requests_jitter);
  if (jitter !== undefined) settings.maxRequestsJitter = jitter;
  const threads = number(described.threads);
  if (threads !== undefined && threads > 1) settings.threads = threads;
  if (typeof described.worker_class === 'string') {
    const kind = WORKER_CLASSES[described.worker_class];
    if (!kind)
      throw new UsageError(
        `${file}: worker_class ${described.worker_class} is not one the arbiter runs (sync, gthread, gevent, or uvicorn.workers.UvicornWorker)`,
      );
    if (kind === 'asgi') settings.interface = 'asgi';
    else settings.workerClass = kind;
  }
  if (typeof described.wsgi_app === 'string' && described.wsgi_app) result.app = described.wsgi_app;
  return result;
}
