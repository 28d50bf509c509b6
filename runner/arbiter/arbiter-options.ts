/** What the command line (cli/main.ts) hands the arbiter. */
import type { ArbiterHooks } from '../config/hooks';
import type { PythonInterpreter } from '../config/python-app';
import type { Settings } from '../config/settings';
import type { EventSink } from '../log/event-sink';
import type { Logger } from '../log/logger';

export type ArbiterOptions = {
  settings: Settings;
  appArgs: readonly string[];
  hooks: ArbiterHooks;
  cwd: string;
  log: Logger;
  events: EventSink;
  /** Re-reads the config file for HUP; throws a UsageError when it is broken. */
  reloadConfig?: () => Promise<{ settings: Settings; hooks: ArbiterHooks }>;
  /** The config file in use: watched, and a change to it re-reads it. */
  configFile?: string;
  /** Set for a `module:callable` app: the workers run the Python runtime on this interpreter. */
  python?: PythonRuntime;
};

export type PythonRuntime = {
  interpreter: PythonInterpreter;
  /** The gunicorn.conf.py in use, if any. */
  gunicornConfig?: string;
};
