/**
 * A minimal Chrome DevTools Protocol client over the inspector's WebSocket: what a debugger
 * does to a worker (enable, pause, resume), for the runner's tests — real V8 pauses, no mock.
 */
import WebSocket from 'ws';

type Message = { id?: number; method?: string; params?: unknown; result?: unknown; error?: unknown };

export class InspectorClient {
  private nextId = 1;
  private readonly pending = new Map<number, (message: Message) => void>();
  private readonly listeners = new Set<(message: Message) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const message = JSON.parse((data as Buffer).toString('utf8')) as Message;
      if (message.id !== undefined) this.pending.get(message.id)?.(message);
      else for (const listener of this.listeners) listener(message);
    });
  }

  static connect(url: string, deadlineMs = 5_000): Promise<InspectorClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { handshakeTimeout: deadlineMs });
      socket.once('open', () => resolve(new InspectorClient(socket)));
      socket.once('error', reject);
    });
  }

  send(method: string, params: object = {}): Promise<Message> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** The next event `method`, within the deadline. */
  event(method: string, deadlineMs = 5_000): Promise<Message> {
    return new Promise((resolve, reject) => {
      const listener = (message: Message) => {
        if (message.method !== method) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(message);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`no ${method} within ${deadlineMs} ms`));
      }, deadlineMs);
      this.listeners.add(listener);
    });
  }

  close(): void {
    this.socket.close();
  }
}
