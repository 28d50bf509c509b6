/**
 * The human-readable log on the terminal: one line per message, each prefixed with its
 * source (the arbiter, or a worker's id and pid), colored when the terminal can show it.
 */
import { formatWithOptions } from 'node:util';

export type Level = 'info' | 'warn' | 'error';

const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
const LEVEL_COLORS: Record<Level, string> = { info: '', warn: '\x1b[33m', error: '\x1b[31m' };
/** Workers cycle through these so neighbouring workers are told apart at a glance. */
const WORKER_COLORS = ['\x1b[36m', '\x1b[35m', '\x1b[34m', '\x1b[32m', '\x1b[96m', '\x1b[95m'];
const ARBITER_COLOR = '\x1b[1m';

/** Honors NO_COLOR and FORCE_COLOR, else colors only a terminal. */
export function shouldColor(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

export class Logger {
  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly color = shouldColor(out),
  ) {}

  /** A message from the arbiter itself. */
  arbiter(level: Level, message: string, ...args: unknown[]): void {
    this.write(
      this.paint(ARBITER_COLOR, `[arbiter ${process.pid}]`),
      level,
      formatWithOptions({ colors: this.color }, message, ...args),
    );
  }

  info(message: string, ...args: unknown[]): void {
    this.arbiter('info', message, ...args);
  }
  warn(message: string, ...args: unknown[]): void {
    this.arbiter('warn', message, ...args);
  }
  error(message: string, ...args: unknown[]): void {
    this.arbiter('error', message, ...args);
  }

  /** A message about, or output from, a worker. */
  worker(id: number, pid: number | undefined, level: Level, message: string): void {
    const color = WORKER_COLORS[(id - 1) % WORKER_COLORS.length]!;
    this.write(this.paint(color, `[worker ${id}${pid ? ` ${pid}` : ''}]`), level, message);
  }

  private write(prefix: string, level: Level, message: string): void {
    const time = this.paint(DIM, new Date().toISOString().slice(11, 23));
    const body = level === 'info' ? message : this.paint(LEVEL_COLORS[level], message);
    let text = '';
    for (const line of body.split('\n')) text += `${time} ${prefix} ${line}\n`;
    this.out.write(text);
  }

  private paint(code: string, text: string): string {
    return this.color && code ? `${code}${text}${RESET}` : text;
  }
}
