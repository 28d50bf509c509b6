/**
 * `arbiter [options] APP`: parses the command line, merges it over the config file, and runs
 * the arbiter until it stops. User mistakes end here as one line and exit code 2; only a bug in
 * the arbiter itself prints a stack trace.
 */
// First: which fds the arbiter inherited is read before it opens any of its own.
import '../log/inherited-fds';
import { resolve } from 'node:path';
import { Arbiter, type PythonRuntime } from '../arbiter/arbiter';
import { EXIT } from '../protocol/exit-codes';
import {
  describeGunicornConfig,
  gunicornServerHooks,
  type DescribedConfig,
} from '../arbiter/hooks/gunicorn-server-hooks';
import { gunicornSettings } from '../config/gunicorn-settings';
import { formatBindAddress, parseBindAddress } from '../config/bind-address';
import type { ArbiterHooks } from '../config/hooks';
import { findConfigFile, loadConfig } from '../config/load-config';
import { UsageError } from '../errors/usage-error';
import {
  checkInterpreter,
  gunicornConfigFile,
  isPythonApp,
  pythonRuntimeDir,
  type PythonInterpreter,
} from '../config/python-app';
import { defaultSettings, type Settings } from '../config/settings';
import { escapeControl } from '../log/escape-control';
import { EventSink, EventTargetError } from '../log/event-sink';
import { Logger } from '../log/logger';
import { parseArgs, type ParsedArgs } from './parse-args';
import { readCommands } from './read-commands';
import { resolveApp } from './resolve-app';
import { usage } from './usage';

declare const ARBITER_VERSION: string;

/** The settings in effect, where they came from, and what to tell the user about them once. */
type Resolved = {
  settings: Settings;
  hooks: ArbiterHooks;
  notices: string[];
  configFile?: string;
  python?: PythonRuntime;
};

async function resolveSettings(parsed: ParsedArgs, cwd: string): Promise<Resolved> {
  const configFile = parsed.configFile ?? findConfigFile(cwd);
  const config = configFile ? await loadConfig(resolve(cwd, configFile)) : undefined;
  let settings: Settings = { ...defaultSettings(), ...config?.settings, ...parsed.settings };
  const appDir = config && !parsed.settings.app ? resolve(config.file, '..') : cwd;
  let hooks = config?.hooks ?? {};
  const notices: string[] = [];
  // A Python app's gunicorn.conf.py may name the app itself (wsgi_app).
  const gunicornConfig =
    !settings.app || isPythonApp(settings.app, appDir)
      ? gunicornConfigFile(settings.gunicornConfig, cwd)
      : undefined;
  let interpreter: PythonInterpreter | undefined;
  if (gunicornConfig) {
    interpreter = checkInterpreter(settings.python);
    let described: DescribedConfig;
    try {
      described = describeGunicornConfig(gunicornConfig, interpreter.executable, pythonRuntimeDir());
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const fromConf = gunicornSettings(described.settings, gunicornConfig, cwd);
    // The command line wins, then arbiter.config.*, then gunicorn.conf.py.
    settings = { ...defaultSettings(), ...fromConf.settings, ...config?.settings, ...parsed.settings };
    if (!settings.app && fromConf.app) settings.app = fromConf.app;
    if (fromConf.ignored.length > 0)
      notices.push(`${gunicornConfig}: not used by the arbiter: ${fromConf.ignored.join(', ')}`);
    // The config file's own hooks win where both define one.
    hooks = {
      ...gunicornServerHooks(gunicornConfig, interpreter.executable, pythonRuntimeDir(), described.hooks),
      ...hooks,
    };
  }
  if (!settings.app) throw new UsageError('missing APP: the server script to run (see arbiter --help)');
  let python: PythonRuntime | undefined;
  if (isPythonApp(settings.app, appDir)) {
    if (parsed.appArgs.length > 0)
      throw new UsageError(
        `a Python APP takes no arguments (gunicorn and uvicorn pass none): '${parsed.appArgs.join(' ')}' after ${settings.app}`,
      );
    // uvicorn's --factory says what gunicorn's `module:factory()` says.
    if (settings.factory && !settings.app.includes('(')) settings.app = `${settings.app}()`;
    python = {
      interpreter: interpreter ?? checkInterpreter(settings.python),
      ...(gunicornConfig ? { gunicornConfig } : {}),
    };
  } else {
    if (settings.factory) throw new UsageError('--factory is for a Python APP (module:factory)');
    settings.app = resolveApp(settings.app, appDir);
  }
  const binds = new Set<string>();
  for (const bind of settings.bind) {
    let address: string;
    try {
      address = formatBindAddress(parseBindAddress(bind));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (binds.has(address)) throw new UsageError(`bind ${address} is given twice`);
    binds.add(address);
  }
  return {
    settings,
    hooks,
    notices,
    ...(config ? { configFile: config.file } : {}),
    ...(python ? { python } : {}),
  };
}

const log = new Logger();

async function main(argv: string[]): Promise<number> {
  const cwd = process.cwd();
  try {
    const parsed = parseArgs(argv);
    if (parsed.help) {
      process.stdout.write(usage());
      return EXIT.OK;
    }
    if (parsed.version) {
      process.stdout.write(`arbiter ${ARBITER_VERSION}\n`);
      return EXIT.OK;
    }
    const { settings, hooks, notices, configFile, python } = await resolveSettings(parsed, cwd);
    for (const notice of notices) log.info(notice);
    let events: EventSink;
    try {
      events = new EventSink(settings.events, (level, message) => log.arbiter(level, message));
    } catch (error) {
      if (error instanceof EventTargetError) throw new UsageError(error.message);
      throw error;
    }
    const arbiter = new Arbiter({
      settings,
      appArgs: parsed.appArgs,
      hooks,
      cwd,
      log,
      events,
      ...(configFile ? { configFile } : {}),
      ...(python ? { python } : {}),
      ...(configFile ? { reloadConfig: async () => resolveSettings({ ...parsed, configFile }, cwd) } : {}),
    });
    if (settings.stdinCommands) readCommands(process.stdin, (command) => arbiter.command(command), log);
    if (settings.stopOnStdinClose) {
      // The tool that started us holds the other end; it is gone when the pipe closes, even if
      // it was killed and could not stop us itself.
      process.stdin.once('close', () => {
        log.info('stdin closed: graceful stop');
        arbiter.stop('graceful', 'stdin closed');
      });
      process.stdin.resume();
    }
    const code = await arbiter.run();
    if (settings.stopOnStdinClose || settings.stdinCommands) process.stdin.destroy();
    await events.close();
    return code;
  } catch (error) {
    if (error instanceof UsageError) {
      log.error(error.message);
      return EXIT.USAGE;
    }
    throw error;
  }
}

/** A bug in the arbiter: say so loudly (its stack may quote names from outside: escaped). */
function internalError(error: unknown): never {
  const text = (error as Error | undefined)?.stack ?? String(error);
  process.stderr.write(`arbiter: internal error, please report it:\n${escapeControl(text)}\n`);
  log.releaseTerminal();
  process.exit(EXIT.INTERNAL);
}

// The workers leave on their own when their control channel closes, and the orphan reaper
// ends whatever does not.
process.on('uncaughtException', internalError);
// A stdout whose reader is gone (EPIPE) is nothing to stop for; stderr's is the Logger's.
process.stdout.on('error', () => undefined);

main(process.argv.slice(2)).then((code) => {
  log.releaseTerminal();
  process.exit(code);
}, internalError);
