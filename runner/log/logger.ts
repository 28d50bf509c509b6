/**
 * The human-readable log on the terminal: one line per message, each prefixed with its
 * source (the arbiter, or a worker's id and pid), colored when the terminal can show it.
 *
 * Two kinds of text reach it. Messages — the arbiter's own, and what it relays from outside
 * (file names, paths, workers' notices and boot errors, tools' commands) — have their control
 * characters escaped and their lines capped here, so that rule lives in one place. The app's
 * own stdout and stderr are the app's business and pass through unchanged.
 */
import { escapeControl } from './escape-control';
import { TerminalOutput, type DroppedLines, type LineSource } from './terminal-output';

export type Level = 'info' | 'warn' | 'error';

const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
const LEVEL_COLORS: Record<Level, string> = { info: '', warn: '\x1b[33m', error: '\x1b[31m' };
/** Workers cycle through these so neighbouring workers are told apart at a glance. */
const WORKER_COLORS = ['\x1b[36m', '\x1b[35m', '\x1b[34m', '\x1b[32m', '\x1b[96m', '\x1b[95m'];
const ARBITER_COLOR = '\x1b[1m';
/**
 * A message line longer than this is cut (a worker's error message can be a megabyte): the
 * terminal is for reading, and the event stream carries the whole text.
 */
export const MESSAGE_LINE_MAX = 16 * 1024;

/** Honors NO_COLOR and FORCE_COLOR, else colors only a terminal. */
export function shouldColor(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

export class Logger {
  private readonly terminal: TerminalOutput;

  constructor(
    out: NodeJS.WriteStream = process.stderr,
    private readonly color = shouldColor(out),
  ) {
    this.terminal = new TerminalOutput(out, (dropped) => this.warn(describeDropped(dropped)));
  }

  /** Call just before the process exits (a terminal that hung up must not crash the exit). */
  releaseTerminal(): void {
    this.terminal.releaseIfGone();
  }

  /** A message from the arbiter itself. */
  arbiter(level: Level, message: string): void {
    this.message(this.paint(ARBITER_COLOR, `[arbiter ${process.pid}]`), level, message);
  }

  info(message: string): void {
    this.arbiter('info', message);
  }
  warn(message: string): void {
    this.arbiter('warn', message);
  }
  error(message: string): void {
    this.arbiter('error', message);
  }

  /** A message about a worker, or one it sent. */
  worker(id: number, pid: number | undefined, level: Level, message: string): void {
    this.message(this.workerPrefix(id, pid), level, message);
  }

  /** A line the app wrote on its stdout or stderr, shown as it is. */
  appOutput(id: number, pid: number | undefined, line: string): void {
    this.write('app', this.workerPrefix(id, pid), line);
  }

  private message(prefix: string, level: Level, message: string): void {
    const lines = escapeControl(message)
      .split('\n')
      .map((line) =>
        line.length > MESSAGE_LINE_MAX
          ? `${line.slice(0, MESSAGE_LINE_MAX)}… (${line.length - MESSAGE_LINE_MAX} more characters)`
          : line,
      );
    const body = lines.map((line) => (level === 'info' ? line : this.paint(LEVEL_COLORS[level], line)));
    this.write('arbiter', prefix, ...body);
  }

  private write(source: LineSource, prefix: string, ...lines: string[]): void {
    if (!this.terminal.accepts(source)) return;
    const time = this.paint(DIM, new Date().toISOString().slice(11, 23));
    let text = '';
    for (const line of lines) text += `${time} ${prefix} ${line}\n`;
    this.terminal.write(text);
  }

  private workerPrefix(id: number, pid: number | undefined): string {
    const color = WORKER_COLORS[(id - 1) % WORKER_COLORS.length]!;
    return this.paint(color, `[worker ${id}${pid ? ` ${pid}` : ''}]`);
  }

  private paint(code: string, text: string): string {
    return this.color && code ? `${code}${text}${RESET}` : text;
  }
}

function describeDropped({ app, arbiter }: DroppedLines): string {
  const own = arbiter > 0 ? `${app > 0 ? ', and ' : ''}${arbiter} of the arbiter's own` : '';
  return `${app > 0 ? `${app} lines of worker output` : ''}${own} dropped while the terminal did not read`;
}
