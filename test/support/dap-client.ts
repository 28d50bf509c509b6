/**
 * A Debug Adapter Protocol client over TCP, for tests that drive a real debug adapter (debugpy)
 * the way VS Code does: Content-Length framed JSON, requests answered by `request_seq`, events
 * kept in order so a test can wait for one (already seen or still to come) with a deadline.
 */
import net from 'node:net';

export type DapMessage = {
  seq: number;
  type: 'request' | 'response' | 'event';
  command?: string;
  event?: string;
  request_seq?: number;
  success?: boolean;
  message?: string;
  body?: Record<string, unknown>;
};

const DEFAULT_DEADLINE_MS = 15_000;

export class DapClient {
  readonly events: DapMessage[] = [];
  /** Resolves when the adapter closes the connection (its debuggee gone, or a disconnect). */
  readonly closed: Promise<void>;
  private seq = 1;
  private buffer = Buffer.alloc(0);
  private readonly pending = new Map<number, (message: DapMessage) => void>();
  private readonly eventWaiters = new Set<(message: DapMessage) => void>();

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined); // seen as `closed`
  }

  static connect(port: number, host = '127.0.0.1'): Promise<DapClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host);
      socket.once('connect', () => resolve(new DapClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends a request; resolves with its response (failed ones too), or rejects at the deadline. */
  request(command: string, args: unknown = {}, deadlineMs = DEFAULT_DEADLINE_MS): Promise<DapMessage> {
    const seq = this.seq++;
    const body = Buffer.from(JSON.stringify({ seq, type: 'request', command, arguments: args }));
    this.socket.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error(`no response to ${command} within ${deadlineMs} ms`));
      }, deadlineMs);
      this.pending.set(seq, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
    });
  }

  /** The first event named `name` matching `test`, already received or still to come. */
  event(
    name: string,
    test: (message: DapMessage) => boolean = () => true,
    deadlineMs = DEFAULT_DEADLINE_MS,
  ): Promise<DapMessage> {
    const matches = (message: DapMessage) => message.event === name && test(message);
    const seen = this.events.find(matches);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = (message: DapMessage) => {
        if (!matches(message)) return;
        this.eventWaiters.delete(waiter);
        clearTimeout(timer);
        resolve(message);
      };
      const timer = setTimeout(() => {
        this.eventWaiters.delete(waiter);
        reject(
          new Error(
            `no ${name} event within ${deadlineMs} ms; got ${this.events.map((e) => e.event).join(', ')}`,
          ),
        );
      }, deadlineMs);
      this.eventWaiters.add(waiter);
    });
  }

  /** Calls `listener` with every event from now on. */
  onEvent(listener: (message: DapMessage) => void): void {
    this.eventWaiters.add(listener);
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end === -1) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, end).toString())?.[1]);
      if (this.buffer.length < end + 4 + length) return;
      const message = JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString()) as DapMessage;
      this.buffer = this.buffer.subarray(end + 4 + length);
      if (message.type === 'response') this.pending.get(message.request_seq!)?.(message);
      else if (message.type === 'event') {
        this.events.push(message);
        for (const waiter of this.eventWaiters) waiter(message);
      }
    }
  }
}
