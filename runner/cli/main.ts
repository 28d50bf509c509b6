/**
 * `arbiter [options] APP`: parses the command line, resolves the settings (resolve-settings.ts), and runs
 * the arbiter until it stops. User mistakes end here as one line and exit code 2; only a bug in
 * the arbiter itself prints a stack trace.
 */
// First: which fds the arbiter inherited is read before it opens any of its own.
import '../log/inherited-fds';
import { Arbiter } from '../arbiter/arbiter';
import { UsageError } from '../errors/usage-error';
import { escapeControl } from '../log/escape-control';
import { EventSink, EventTargetError } from '../log/event-sink';
import { Logger } from '../log/logger';
import { EXIT } from '../protocol/exit-codes';
import { parseArgs } from './parse-args';
import { readCommands } from './read-commands';
import { resolveSettings } from './resolve-settings';
import { usage } from './usage';

declare const ARBITER_VERSION: string;

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
