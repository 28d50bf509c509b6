/** The text of `arbiter --help`, built from the settings table so it cannot drift from it. */
import { SETTING_DEFINITIONS, SETTING_NAMES } from '../config/settings';

export function usage(): string {
  const rows: [string, string][] = [];
  for (const name of SETTING_NAMES) {
    const definition: {
      flag?: string;
      short?: string;
      metavar?: string;
      negatable?: boolean;
      help: string;
      default: unknown;
    } = SETTING_DEFINITIONS[name];
    if (!definition.flag) continue;
    const flag = `${definition.short ? `-${definition.short}, ` : '    '}--${definition.flag}${definition.metavar ? ` ${definition.metavar}` : ''}`;
    const fallback = Array.isArray(definition.default) ? definition.default.join(' ') : definition.default;
    const shown = fallback === '' || definition.negatable ? '' : ` [${String(fallback)}]`;
    rows.push([flag, `${definition.help}${shown}`]);
  }
  rows.push([
    '-c, --config FILE',
    'config file (default: ./arbiter.config.{js,mjs,cjs,ts,mts,cts} if present)',
  ]);
  rows.push(['-h, --help', 'show this help']);
  rows.push(['-v, --version', 'show the version']);
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  const options = rows.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`).join('\n');
  return `Usage: arbiter [options] APP [APP ARGS...]

Runs APP (a Node server script that calls listen(process.env.PORT), or a module whose
default export is a request handler) in worker processes behind sockets the arbiter owns.

Options:
${options}

Signals: HUP reload · TERM graceful stop · INT (Ctrl+C) graceful, then quick, then kill ·
QUIT quick stop · TTIN/TTOU one worker more/fewer · USR1 reopen logs · WINCH stop workers
`;
}
