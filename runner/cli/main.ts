/**
 * `arbiter [options] APP` (and `arbiter drill ...`, drill/): parses the command line, resolves the settings (resolve-settings.ts), and runs
 * the arbiter until it stops. User mistakes end here as one line and exit code 2; only a bug in
 * the arbiter itself prints a stack trace.
 */
// First: which fds the arbiter inherited is read before it opens any of its own.
import '../log/inherited-fds';
import { resolve } from 'node:path';
import { Arbiter } from '../arbiter/arbiter';
import { UsageError } from '../errors/usage-error';
import { escapeControl } from '../log/escape-control';
import { EventSink, EventTargetError } from '../log/event-sink';
import { Logger } from '../log/logger';
import { EXIT } from '../protocol/exit-codes';
import { drill } from '../drill/drill';
import { drillUsage, parseDrillArgs } from '../drill/drill-args';
import { drillMarkdown } from '../drill/drill-markdown';
import { parseArgs } from './parse-args';
import { readCommands } from './read-commands';
import { resolveSettings } from './resolve-settings';
import { usage } from './usage';

declare const ARBITER_VERSION: string;

const log = new Logger();

async function main(argv: string[]): Promise<number> {
  const cwd = process.cwd();
  if (argv[0] === 'drill') return runDrill(argv.slice(1), cwd);
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

/** `arbiter drill`: runs this same CLI three times under load, and reports (drill/drill.ts). */
async function runDrill(argv: string[], cwd: string): Promise<number> {
  try {
    const args = parseDrillArgs(argv, cwd);
    if (args.help) {
      process.stdout.write(drillUsage());
      return EXIT.OK;
    }
    const say = (line: string) => log.info(line);
    const outcome = await drill({
      cli: process.argv[1]!,
      cwd,
      arbiterArgs: args.arbiterArgs,
      options: args.options,
      say,
    });
    if (outcome.bootFailure) {
      log.error(`drill: ${outcome.bootFailure} (exit code ${outcome.exitCode}); nothing was drilled`);
      return outcome.exitCode === 0 ? 1 : outcome.exitCode;
    }
    process.stdout.write(`\n${drillMarkdown(outcome.report!)}`);
    const where = resolve(args.options.reportDir);
    log.info(`drill: report written to ${where}/arbiter-drill.md and arbiter-drill.json`);
    return outcome.exitCode;
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
