/**
 * The boot message a new worker gets: who it is and what to run, built from the settings in
 * force for its generation. Pure, so that what a worker is told can be read and tested apart
 * from the processes.
 */
import type { Settings } from '../../config/settings';
import { FIRST_LISTEN_FD, type BootMessage } from '../../protocol/control';

export type BootFacts = {
  id: number;
  generation: number;
  /** What the worker loads: the app, or its TypeScript build's output for this generation. */
  app: string;
  /** The app's source is TypeScript: stack traces are mapped back to it. */
  sourceMaps: boolean;
  /** The value of PORT (sockets.ts: primaryPort). */
  port: string;
  /** How many listening sockets the worker inherits. */
  sockets: number;
  /** The --env-file variables. */
  env: Readonly<Record<string, string>>;
  /** Files this cycle changed, whose syntax the runtime checks before it loads the app. */
  check?: readonly string[] | undefined;
  /** For a Python app: its gunicorn.conf.py, if any. */
  python?: { gunicornConfig?: string | undefined } | undefined;
  /** A number in [0, 1) that spreads max-requests restarts (Math.random in use, fixed in tests). */
  jitter: number;
};

export type BootSettings = Pick<
  Settings,
  'maxRequests' | 'maxRequestsJitter' | 'timeout' | 'longLivedGrace' | 'interface' | 'workerClass' | 'threads'
>;

export function bootMessage(facts: BootFacts, settings: BootSettings): BootMessage {
  const jitter =
    settings.maxRequestsJitter > 0 ? Math.floor(facts.jitter * (settings.maxRequestsJitter + 1)) : 0;
  return {
    type: 'boot',
    id: facts.id,
    generation: facts.generation,
    app: facts.app,
    ...(Object.keys(facts.env).length > 0 ? { env: { ...facts.env } } : {}),
    ...(facts.check?.length ? { check: [...facts.check] } : {}),
    sourceMaps: facts.sourceMaps,
    longLivedGraceMs: Math.round(settings.longLivedGrace * 1000),
    port: facts.port,
    listenFds: Array.from({ length: facts.sockets }, (_, index) => FIRST_LISTEN_FD + index),
    maxRequests: settings.maxRequests > 0 ? settings.maxRequests + jitter : 0,
    // Four beats per timeout: one late beat is never mistaken for a frozen worker.
    heartbeatMs: settings.timeout > 0 ? Math.max(50, Math.round((settings.timeout * 1000) / 4)) : 0,
    ...(facts.python ? { python: pythonBoot(facts.python, settings) } : {}),
  };
}

/** How the Python runtime serves the app; what is left unset, it decides (gunicorn.conf.py, the callable). */
function pythonBoot(
  python: NonNullable<BootFacts['python']>,
  settings: BootSettings,
): NonNullable<BootMessage['python']> {
  return {
    ...(settings.interface !== 'auto' ? { interface: settings.interface } : {}),
    ...(settings.workerClass !== 'auto' ? { workerClass: settings.workerClass } : {}),
    ...(settings.threads > 0 ? { threads: settings.threads } : {}),
    ...(python.gunicornConfig ? { config: python.gunicornConfig } : {}),
  };
}
