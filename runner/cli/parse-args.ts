/**
 * Turns `arbiter [options] APP [APP ARGS...]` into settings. Options stop at the first
 * positional argument (APP): everything after it belongs to the app, as with `node`.
 */
import { suggest } from '../config/option-values';
import { UsageError } from '../errors/usage-error';
import {
  SETTING_DEFINITIONS,
  SETTING_NAMES,
  type PartialSettings,
  type SettingName,
} from '../config/settings';

export type ParsedArgs = {
  /** What the command line set; merged over the config file. */
  settings: PartialSettings;
  configFile?: string;
  help: boolean;
  version: boolean;
  appArgs: string[];
};

type Flag =
  | { kind: 'setting'; name: SettingName; negated: boolean }
  | { kind: 'config' }
  | { kind: 'help' }
  | { kind: 'version' };

function buildFlagTable(): Map<string, Flag> {
  const table = new Map<string, Flag>([
    ['--config', { kind: 'config' }],
    ['-c', { kind: 'config' }],
    ['--help', { kind: 'help' }],
    ['-h', { kind: 'help' }],
    ['--version', { kind: 'version' }],
    ['-v', { kind: 'version' }],
  ]);
  for (const name of SETTING_NAMES) {
    const definition: { flag?: string; short?: string; negatable?: boolean } = SETTING_DEFINITIONS[name];
    if (!definition.flag) continue;
    table.set(`--${definition.flag}`, { kind: 'setting', name, negated: false });
    if (definition.short) table.set(`-${definition.short}`, { kind: 'setting', name, negated: false });
    if (definition.negatable) table.set(`--no-${definition.flag}`, { kind: 'setting', name, negated: true });
  }
  return table;
}

const FLAGS = buildFlagTable();

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const result: ParsedArgs = { settings: {}, help: false, version: false, appArgs: [] };
  const settings = result.settings as Record<string, unknown>;
  let index = 0;

  const takeValue = (flag: string, inline: string | undefined): string => {
    if (inline !== undefined) return inline;
    const value = argv[++index];
    if (value === undefined) throw new UsageError(`option ${flag} needs a value`);
    return value;
  };

  for (; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === '--') {
      index++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;

    // --flag=value, -w4 and -w 4 are all accepted.
    let name = arg;
    let inline: string | undefined;
    const equals = arg.indexOf('=');
    if (arg.startsWith('--') && equals !== -1) {
      name = arg.slice(0, equals);
      inline = arg.slice(equals + 1);
    } else if (!arg.startsWith('--') && arg.length > 2) {
      name = arg.slice(0, 2);
      inline = arg.slice(2);
    }

    const flag = FLAGS.get(name);
    if (!flag) {
      const guess = suggest(name, [...FLAGS.keys()]);
      throw new UsageError(
        `unknown option '${name}'${guess ? ` (did you mean ${guess}?)` : ''}; see arbiter --help`,
      );
    }
    switch (flag.kind) {
      case 'help':
        result.help = true;
        break;
      case 'version':
        result.version = true;
        break;
      case 'config':
        result.configFile = takeValue(name, inline);
        break;
      case 'setting': {
        const definition = SETTING_DEFINITIONS[flag.name];
        const isBoolean = definition.checker.expected === 'true or false';
        if (isBoolean && flag.negated && inline !== undefined) {
          throw new UsageError(`option ${name} takes no value (got '${inline}')`);
        }
        if (isBoolean && inline === undefined) {
          settings[flag.name] = !flag.negated;
          break;
        }
        const raw = isBoolean ? inline! : takeValue(name, inline);
        let value: unknown;
        try {
          value = definition.checker.fromText(raw);
        } catch (error) {
          throw new UsageError(`invalid value for ${name}: ${(error as Error).message}`);
        }
        const previous = settings[flag.name];
        settings[flag.name] =
          Array.isArray(value) && Array.isArray(previous)
            ? [...(previous as string[]), ...(value as string[])]
            : value;
      }
    }
  }

  const app = argv[index];
  if (app !== undefined) {
    result.settings.app = app;
    result.appArgs = argv.slice(index + 1);
  }
  return result;
}
