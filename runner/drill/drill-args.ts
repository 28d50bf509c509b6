/**
 * `arbiter drill [drill options] [arbiter options] APP [APP ARGS]`: the drill's own options
 * first; the rest is the arbiter's command line, checked by its own parser, so that a drill runs the app exactly as `arbiter` would — except that the
 * drill binds loopback on a free port itself, and reloads by SIGHUP rather than on saves.
 */
import { UsageError } from '../errors/usage-error';
import { parseArgs } from '../cli/parse-args';

export type DrillOptions = {
  /** Reloads in all, spread over the three runs (one per stop kind). */
  reloads: number;
  /** Requests kept in flight at once. */
  concurrency: number;
  /** What each request asks for. */
  path: string;
  /** Seeds the moments the reloads and stops come at: the same seed, the same drill. */
  seed: number;
  /** Where arbiter-drill.md and arbiter-drill.json are written. */
  reportDir: string;
  /** The whole drill's bound: past it, what runs is killed and the drill fails. */
  timeLimitMs: number;
};

export type DrillArgs = { options: DrillOptions; arbiterArgs: string[]; help: boolean };

/** The drill's options: flag, metavar, help, and how a value is read. */
const FLAGS = {
  '--reloads': { metavar: 'N', help: 'reloads (SIGHUP) in all, at random moments under load [6]' },
  '--concurrency': { metavar: 'N', help: 'requests kept in flight at once [2]' },
  '--path': { metavar: 'PATH', help: 'what each request asks for [/]' },
  '--seed': { metavar: 'N', help: 'seeds the random moments: the same seed, the same drill [random]' },
  '--report-dir': { metavar: 'DIR', help: 'where arbiter-drill.md and arbiter-drill.json go [.]' },
  '--time-limit': { metavar: 'SEC', help: 'the whole drill at most; past it the drill fails [300]' },
} as const;
type DrillFlag = keyof typeof FLAGS;

const isDrillFlag = (arg: string): arg is DrillFlag => Object.hasOwn(FLAGS, arg);

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new UsageError(`${flag} takes a whole number from ${min} to ${max}, not '${value}'`);
  return n;
}

export function parseDrillArgs(argv: readonly string[], cwd: string, random = Math.random): DrillArgs {
  const options: DrillOptions = {
    reloads: 6,
    concurrency: 2,
    path: '/',
    seed: Math.floor(random() * 2 ** 31),
    reportDir: cwd,
    timeLimitMs: 300_000,
  };
  // The drill's options come first; from the first other argument on, the command line is
  // the arbiter's, so an option after APP is the app's whatever it is called.
  let i = 0;
  for (; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    if (!isDrillFlag(flag)) break;
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`${flag} needs a value (${FLAGS[flag].metavar})`);
    if (flag === '--reloads') options.reloads = integer(flag, value, 0, 50);
    else if (flag === '--concurrency') options.concurrency = integer(flag, value, 1, 16);
    else if (flag === '--seed') options.seed = integer(flag, value, 0, 2 ** 31 - 1);
    else if (flag === '--time-limit') options.timeLimitMs = integer(flag, value, 10, 3600) * 1000;
    else if (flag === '--report-dir') options.reportDir = value;
    else {
      if (!value.startsWith('/'))
        throw new UsageError(`--path takes a path that starts with '/', not '${value}'`);
      options.path = value;
    }
  }
  const arbiterArgs = argv.slice(i);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(arbiterArgs);
  } catch (error) {
    const misplaced = arbiterArgs.find((arg) => isDrillFlag(arg.split('=')[0]!));
    if (error instanceof UsageError && misplaced)
      throw new UsageError(
        `arbiter drill: ${misplaced} is the drill's: put the drill's options before the arbiter's`,
      );
    throw error;
  }
  if (parsed.help) return { options, arbiterArgs, help: true };
  if (parsed.settings.app === undefined)
    throw new UsageError('arbiter drill: name the APP to drill (see arbiter drill --help)');
  if (parsed.settings.bind !== undefined)
    throw new UsageError(
      'arbiter drill binds 127.0.0.1 on a free port itself (loopback only): leave out --bind',
    );
  return { options, arbiterArgs, help: false };
}

export function drillUsage(): string {
  const rows = Object.entries(FLAGS).map(
    ([flag, { metavar, help }]) => `  ${`${flag} ${metavar}`.padEnd(20)}${help}`,
  );
  return `Usage: arbiter drill [drill options] [arbiter options] APP [APP ARGS...]

Runs APP three times under bounded load on 127.0.0.1, reloads it (SIGHUP) at random moments,
and ends each run with one kind of stop: graceful (SIGTERM), the first Ctrl+C (SIGINT), quick
(SIGQUIT). Reports failed and cut requests, every hook's outcome and duration, what a worker
left open, and the slowest hook against the graceful timeout, as Markdown (printed, and
arbiter-drill.md) and JSON (arbiter-drill.json). Exits 1 when something was lost or left open.

Drill options:
${rows.join('\n')}

Every other option is the arbiter's (arbiter --help), except --bind.
`;
}
