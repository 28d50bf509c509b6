/**
 * The arbiter's terminal (its stderr) as a bounded writer that survives its reader. Node
 * queues whatever a pipe does not take yet, without limit: a worker flooding stdout while the
 * terminal does not read (`arbiter app.js 2>&1 | sleep 30`) grew the arbiter by the size of
 * the flood. Here worker output stops being queued at APP_BACKLOG and the arbiter's own lines
 * at OWN_BACKLOG; what does not fit is dropped and counted, and once the terminal has read all
 * that waited, one line says how much. A terminal that is gone (EPIPE: its reader closed;
 * EIO: the terminal hung up) is no longer written to, and nothing else changes: serving and
 * the event stream go on. A file or a terminal device is written synchronously by Node and
 * never queues, so none of this applies to them.
 */

import { closeSync, fstatSync, openSync } from 'node:fs';

/** Who wrote a line: a worker (its stdout/stderr) or the arbiter. */
export type LineSource = 'app' | 'arbiter';

/**
 * Worker output waits behind at most this much (bytes queued for the terminal): a terminal
 * that reads at all takes 1 MiB in a blink, so more would only delay the same drop.
 */
export const APP_BACKLOG = 1024 * 1024;
/** The arbiter's own lines (rare, and what explains the rest) may wait behind a little more. */
export const OWN_BACKLOG = 4 * 1024 * 1024;

/** Lines that did not fit, by source, as reported when the terminal catches up. */
export type DroppedLines = Record<LineSource, number>;

export class TerminalOutput {
  private gone = false;
  private dropped: DroppedLines = { app: 0, arbiter: 0 };

  constructor(
    private readonly stream: NodeJS.WritableStream & { readonly writableLength: number },
    /** The terminal read everything that waited, after `dropped` lines did not fit. */
    onCaughtUp: (dropped: DroppedLines) => void,
  ) {
    stream.on('error', () => (this.gone = true));
    stream.on('drain', () => {
      const dropped = this.dropped;
      if (dropped.app === 0 && dropped.arbiter === 0) return;
      this.dropped = { app: 0, arbiter: 0 };
      onCaughtUp(dropped);
    });
  }

  /**
   * Whether a line from `source` may be written now; if not, it counts as dropped. Asked
   * before the line is formatted, so a flood that is dropped costs no formatting.
   */
  accepts(source: LineSource): boolean {
    if (this.gone) return false;
    if (this.stream.writableLength < (source === 'app' ? APP_BACKLOG : OWN_BACKLOG)) return true;
    this.dropped[source]++;
    return false;
  }

  write(text: string): void {
    if (!this.gone) this.stream.write(text);
  }

  /**
   * Before the process exits: a terminal that hung up (EIO) is replaced by /dev/null in the
   * stdio fds that refer to it. Node restores every terminal it started on as it exits, and
   * on one that hung up it aborts instead (SIGABRT in its ResetStdio, nodejs/node#58200); it
   * skips an fd that refers to another file by then. close() then open() reuses the fd number:
   * the lowest free one.
   */
  releaseIfGone(): void {
    if (!this.gone || !(this.stream as { isTTY?: boolean }).isTTY) return;
    try {
      const terminal = fstatSync(2);
      for (const fd of [0, 1, 2]) {
        const stat = fstatSync(fd);
        if (stat.dev !== terminal.dev || stat.ino !== terminal.ino) continue;
        closeSync(fd);
        openSync('/dev/null', fd === 0 ? 'r' : 'w');
      }
    } catch {
      // nothing better to do while exiting
    }
  }
}
