/**
 * `arbiter [options] APP`: parses the command line, merges it over the config file, and runs
 * the arbiter until it stops. User mistakes end here as one line and exit code 2; only a bug in
 * the arbiter itself prints a stack trace.
 */
import { resolve } from 'node:path';
import { Arbiter, EXIT, type PythonRuntime } from '../arbiter/arbiter';
import { gunicornServerHooks } from '../arbiter/gunicorn-server-hooks';
import { formatBindAddress, parseBindAddress } from '../config/bind-address';
import type { ArbiterHooks } from '../config/hooks';
import { findConfigFile, loadConfig } from '../config/load-config';
import { UsageError } from '../config/option-values';
import { checkInterpreter, gunicornConfigFile, isPythonApp, pythonRuntimeDir } from '../config/python-app';
import { defaultSettings, type Settings } from '../config/settings';
import { EventSink } from '../log/event-sink';
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

async function main(argv: string[]): Promise<number> {
  const log = new Logger();
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
      events = new EventSink(settings.events);
    } catch (error) {
      throw new UsageError(`cannot write the events file: ${(error as Error).message}`);
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
    events.close();
    return code;
  } catch (error) {
    if (error instanceof UsageError) {
      log.error(error.message);
      return EXIT.USAGE;
    }
    throw error;
  }
}

process.on('uncaughtException', (error) => {
  // A bug in the arbiter: say so loudly. The workers leave on their own when their control
  // channel closes, and the orphan reaper ends whatever does not.
  process.stderr.write(`arbiter: internal error, please report it:\n${error.stack ?? String(error)}\n`);
  process.exit(EXIT.INTERNAL);
});

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `arbiter: internal error, please report it:\n${(error as Error).stack ?? String(error)}\n`,
    );
    process.exit(EXIT.INTERNAL);
  },
);
