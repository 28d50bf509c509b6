/**
 * Events written to a pipe, FIFO, socket or terminal without ever blocking the arbiter:
 * through a libuv stream on a non-blocking fd, whose queue holds what the reader has not
 * taken yet. A reader that stops reading costs at most STREAM_BACKLOG of that queue; beyond
 * it the writer refuses lines (the target counts them as dropped) until the reader has read
 * what waits.
 */
import net from 'node:net';
import tty from 'node:tty';
import type { Writable } from 'node:stream';

/**
 * How far a reader may fall behind. The stream is a few KiB per reload and a line per
 * heartbeat with news, so 4 MiB is minutes of a HUP storm for a reader that still reads
 * (the editor's extension host busy for a while), and a reader that owes more is not
 * following any more; it also bounds the memory each target can cost.
 */
export const STREAM_BACKLOG = 4 * 1024 * 1024;
/** At exit, how long a reader that is still following gets to read the last events. */
const CLOSE_GRACE_MS = 1000;

export type StreamWriterEvents = {
  /** The stream failed for good (EPIPE: its reader is gone). */
  onBroken: (reason: string) => void;
  /** The reader has read everything that waited. */
  onDrained: () => void;
};

export class EventStreamWriter {
  private broken: string | undefined;

  constructor(
    private readonly stream: Writable & { readonly writableLength: number },
    events: StreamWriterEvents,
    /** Whether the arbiter owns the stream (and ends it), rather than sharing it (its stdout, stderr). */
    private readonly owned: boolean,
  ) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (this.broken) return;
      this.broken = `its reader is gone (${error.code ?? error.message})`;
      events.onBroken(this.broken);
    });
    stream.on('drain', () => events.onDrained());
  }

  /** A writer for the pipe, FIFO or socket `fd`, which it makes non-blocking. */
  static forSocket(fd: number, events: StreamWriterEvents): EventStreamWriter {
    return new EventStreamWriter(new net.Socket({ fd, readable: false, writable: true }), events, true);
  }

  /**
   * A writer for the terminal `fd`, which must be an fd of the arbiter's own (opened by path,
   * or through /proc/self/fd): Node makes a terminal blocking, and only an fd no other process
   * shares may be made non-blocking again without changing it for them (their shell).
   */
  static forTerminal(fd: number, events: StreamWriterEvents): EventStreamWriter {
    const stream = new tty.WriteStream(fd);
    (stream as unknown as { _handle?: { setBlocking?: (blocking: boolean) => void } })._handle?.setBlocking?.(
      false,
    );
    return new EventStreamWriter(stream, events, true);
  }

  /** Queues the line; says why it could not (its reader is gone, or too far behind). */
  write(line: string): string | undefined {
    if (this.broken) return this.broken;
    if (this.stream.writableLength >= STREAM_BACKLOG)
      return `its reader is ${Math.round(this.stream.writableLength / 1024 / 1024)} MiB behind`;
    this.stream.write(line);
    return undefined;
  }

  /** Whether the reader owes less than the limit (it may be written to again). */
  get caughtUp(): boolean {
    return !this.broken && this.stream.writableLength < STREAM_BACKLOG;
  }

  /** Whether the stream failed for good (its reader is gone). */
  get isBroken(): boolean {
    return this.broken !== undefined;
  }

  /**
   * Ends the stream once its reader has read what waits, or after a short grace; at once when
   * `abandon` (the reader stopped following).
   */
  close(abandon: boolean): Promise<void> {
    if (!this.owned || this.broken) return Promise.resolve();
    if (abandon) {
      this.stream.destroy();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.stream.destroy();
        resolve();
      }, CLOSE_GRACE_MS);
      this.stream.end(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
