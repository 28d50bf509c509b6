/**
 * The settings in effect, from defaults, gunicorn.conf.py, the config file and the command
 * line (which wins), with the app resolved and checked: what the arbiter is started with. Every
 * mistake here is the user's, a UsageError: one line and exit code 2.
 */
import { resolve } from 'node:path';
import type { PythonRuntime } from '../arbiter/arbiter-options';
import {
  describeGunicornConfig,
  gunicornServerHooks,
  type DescribedConfig,
} from '../arbiter/hooks/gunicorn-server-hooks';
import { formatBindAddress, parseBindAddress } from '../config/bind-address';
import { gunicornSettings } from '../config/gunicorn-settings';
import type { ArbiterHooks } from '../config/hooks';
import { findConfigFile, loadConfig } from '../config/load-config';
import {
  checkInterpreter,
  gunicornConfigFile,
  isPythonApp,
  pythonRuntimeDir,
  type PythonInterpreter,
} from '../config/python-app';
import { defaultSettings, type Settings } from '../config/settings';
import { UsageError } from '../errors/usage-error';
import type { ParsedArgs } from './parse-args';
import { resolveApp } from './resolve-app';

/** The settings in effect, where they came from, and what to tell the user about them once. */
export type Resolved = {
  settings: Settings;
  hooks: ArbiterHooks;
  notices: string[];
  configFile?: string;
  python?: PythonRuntime;
};

export async function resolveSettings(parsed: ParsedArgs, cwd: string): Promise<Resolved> {
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
