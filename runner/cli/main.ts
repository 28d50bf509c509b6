/**
 * `arbiter [options] APP`: parses the command line, merges it over the config file, and runs
 * the arbiter until it stops. User mistakes end here as one line and exit code 2; only a bug in
 * the arbiter itself prints a stack trace.
 */
// First: which fds the arbiter inherited is read before it opens any of its own.
import '../log/inherited-fds';
import { resolve } from 'node:path';
import { Arbiter, EXIT, type PythonRuntime } from '../arbiter/arbiter';
import { gunicornServerHooks } from '../arbiter/gunicorn-server-hooks';
import { formatBindAddress, parseBindAddress } from '../config/bind-address';
import type { ArbiterHooks } from '../config/hooks';
import { findConfigFile, loadConfig } from '../config/load-config';
import { UsageError } from '../config/option-values';
import { checkInterpreter, gunicornConfigFile, isPythonApp, pythonRuntimeDir } from '../config/python-app';
import { defaultSettings, type Settings } from '../config/settings';
import { escapeControl } from '../log/escape-control';
import { EventSink, EventTargetError } from '../log/event-sink';
import { Logger } from '../log/logger';
import { parseArgs, type ParsedArgs } from './parse-args';
import { readCommands } from './read-commands';
import { resolveApp } from './resolve-app';
import { usage } from './usage';

declare const ARBITER_VERSION: string;

async function resolveSettings(
  parsed: ParsedArgs,
  cwd: string,
): Promise<{ settings: Settings; hooks: ArbiterHooks; configFile?: string; python?: PythonRuntime }> {
  const configFile = parsed.configFile ?? findConfigFile(cwd);
  const config = configFile ? await loadConfig(resolve(cwd, configFile)) : undefined;
  const settings: Settings = { ...defaultSettings(), ...config?.settings, ...parsed.settings };
  if (!settings.app) throw new UsageError('missing APP: the server script to run (see arbiter --help)');
  const appDir = config && !parsed.settings.app ? resolve(config.file, '..') : cwd;
  let python: PythonRuntime | undefined;
  let hooks = config?.hooks ?? {};
  if (isPythonApp(settings.app, appDir)) {
    if (parsed.appArgs.length > 0)
      throw new UsageError(
        `a Python APP takes no arguments (gunicorn and uvicorn pass none): '${parsed.appArgs.join(' ')}' after ${settings.app}`,
      );
    const gunicornConfig = gunicornConfigFile(settings.gunicornConfig, cwd);
    python = {
      interpreter: checkInterpreter(settings.python),
      ...(gunicornConfig ? { gunicornConfig } : {}),
    };
    if (gunicornConfig) {
      try {
        // The config file's own hooks win where both define one.
        hooks = {
          ...gunicornServerHooks(gunicornConfig, python.interpreter.executable, pythonRuntimeDir()),
          ...hooks,
        };
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
    }
  } else settings.app = resolveApp(settings.app, appDir);
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
    const { settings, hooks, configFile, python } = await resolveSettings(parsed, cwd);
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
    if (settings.stdinCommands) readCommands(process.stdin, arbiter, log);
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
