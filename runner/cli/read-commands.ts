/**
 * `--stdin-commands`: the arbiter's stdin carries commands (runner/protocol/commands.ts), one
 * JSON object a line, from the tool that started it. A line that is not a valid command is
 * reported and skipped: the tool's mistake never stops the server.
 */
import type { Readable } from 'node:stream';
import type { Arbiter } from '../arbiter/arbiter';
import type { Logger } from '../log/logger';
import { parseCommand } from '../protocol/commands';

/** A line longer than this is not a command: dropped rather than buffered without end. */
const MAX_LINE = 64 * 1024;

export function readCommands(input: Readable, arbiter: Arbiter, log: Logger): void {
  let pending = '';
  input.setEncoding('utf8');
  input.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    if (pending.length > MAX_LINE) {
      log.warn(`stdin command ignored: a line of over ${MAX_LINE} characters`);
      pending = '';
    }
    for (const line of lines) {
      if (!line.trim()) continue;
      const parsed = parseCommand(line);
      if (parsed.ok) arbiter.handleCommand(parsed.value);
      else log.warn(`stdin command ignored: ${parsed.error}`);
    }
  });
  input.resume();
}
