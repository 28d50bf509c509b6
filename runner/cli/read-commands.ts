/**
 * `--stdin-commands`: the arbiter's stdin carries commands (runner/protocol/commands.ts), one
 * JSON object a line, from the tool that started it. A line that is not a valid command is
 * reported and skipped: the tool's mistake never stops the server.
 */
import type { Readable } from 'node:stream';
import { LineSplitter, MAX_LINE_LENGTH } from '../protocol/line-splitter';
import type { Logger } from '../log/logger';
import { parseCommand, type ArbiterCommand } from '../protocol/commands';

export function readCommands(input: Readable, run: (command: ArbiterCommand) => void, log: Logger): void {
  // A line longer than the limit is not a command: one line says so, and it is never buffered.
  const lines = new LineSplitter(
    (line) => {
      if (!line.trim()) return;
      const parsed = parseCommand(line);
      if (parsed.ok) run(parsed.value);
      else log.warn(`stdin command ignored: ${parsed.error}`);
    },
    { onTooLong: () => log.warn(`stdin command ignored: a line over ${MAX_LINE_LENGTH / 1024 / 1024} MiB`) },
  );
  input.setEncoding('utf8');
  input.on('data', (chunk: string) => lines.push(chunk));
  input.resume();
}
