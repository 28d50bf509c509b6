/**
 * The worker's end of the control channel (fd 3). Writes are synchronous: a worker's last
 * words (hook outcomes at exit, a fatal error) must reach the arbiter even when the process
 * is leaving and the event loop will not turn again.
 */
import { fstatSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { LineSplitter } from '../protocol/line-splitter';
import {
  CONTROL_FD,
  parseArbiterMessage,
  type ArbiterMessage,
  type WorkerMessage,
} from '../protocol/control';

export class ControlChannel {
  private readonly socket: Socket;
  private open = true;
  /** Bytes handed to the socket's own (asynchronous, ordered) writer and not yet written. */
  private queued = 0;
  /** The channel's socket as the kernel knows it: the fd number may come to mean something else. */
  private readonly identity: string;

  constructor(
    onMessage: (message: ArbiterMessage) => void,
    /** The arbiter is gone (exited or killed): the worker must not outlive it. */
    private readonly onClose: () => void,
    private readonly fd = CONTROL_FD,
  ) {
    this.identity = identify(fd);
    this.socket = new Socket({ fd, readable: true, writable: true });
    this.socket.setEncoding('utf8');
    const warn = (message: string) => this.send({ type: 'notice', level: 'warn', message });
    const lines = new LineSplitter(
      (line) => {
        if (!line) return;
        const parsed = parseArbiterMessage(line);
        if (parsed.ok) onMessage(parsed.value);
        else warn(`ignored a malformed control message: ${parsed.error}`);
      },
      { onTooLong: () => warn('ignored a control message of over 1 MiB') },
    );
    this.socket.on('data', (chunk: string) => lines.push(chunk));
    const closed = () => this.lost();
    this.socket.on('end', closed);
    this.socket.on('close', closed);
    this.socket.on('error', closed);
  }

  /**
   * The arbiter's end is gone. Whichever notices first — a read at EOF, or a write that fails
   * with EPIPE (a worker that writes before it reads learns it that way) — tells the worker, once.
   */
  private lost(): void {
    if (!this.open) return;
    this.open = false;
    // Not from inside send(): the caller's own code would run on with the worker half stopped.
    process.nextTick(this.onClose);
  }

  /**
   * fd 3 is no longer the channel: the app closed it below fs (natively) and the number went to
   * something of the app's, typically the next accepted connection. Nothing more is written to
   * it, and the socket is left alone (closing it would close the app's). The arbiter saw its
   * end close and replaces this worker; should the arbiter die meanwhile, its reaper ends it.
   */
  private disowned(): void {
    this.open = false;
    process.stderr.write(
      `arbiter worker ${process.pid}: fd ${this.fd} is no longer the arbiter's control channel (the app closed it); this worker will be replaced\n`,
    );
  }

  /** While booting the channel keeps the process alive; after that only the app does. */
  keepAlive(alive: boolean): void {
    if (alive) this.socket.ref();
    else this.socket.unref();
  }

  send(message: WorkerMessage): void {
    if (!this.open) return;
    if (identify(this.fd) !== this.identity) return this.disowned();
    const data = Buffer.from(`${JSON.stringify(message)}\n`);
    // Once anything is queued, everything after it queues too, so lines never interleave.
    if (this.queued > 0) return this.enqueue(data);
    let offset = 0;
    try {
      while (offset < data.length) offset += writeSync(this.fd, data, offset);
    } catch (error) {
      // The socket is non-blocking (libuv made it so for reading): a full buffer means the
      // arbiter is behind, so the rest goes out asynchronously; any other error means it is gone.
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return this.lost();
      this.enqueue(data.subarray(offset));
    }
  }

  private enqueue(data: Buffer): void {
    this.queued += data.length;
    this.socket.write(data, () => (this.queued -= data.length));
  }
}

/** What fd refers to (device and inode), or '' if nothing. */
function identify(fd: number): string {
  try {
    const { dev, ino } = fstatSync(fd);
    return `${dev}:${ino}`;
  } catch {
    return '';
  }
}
