/**
 * Makes the app's own server serve on the arbiter's sockets. The app calls
 * `listen(process.env.PORT)` as it always does; that call is redirected to the listening
 * socket(s) the worker inherited, so no worker ever binds a port of its own. Also counts the
 * requests those servers see, and stops them accepting when the worker is asked to stop; a
 * worker booted to accept on cue listens only at the arbiter's `accept` (readiness.ts).
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { sep } from 'node:path';
import type { InFlightRequest } from '../protocol/events';

type ListenArgs = unknown[];

export type AppServersOptions = {
  /** The value of PORT: a listen() on it is taken over. */
  port: string;
  /** The inherited listening sockets; the first one is the app server's own. */
  fds: number[];
  onListening: () => void;
  /** Lets readiness holds put off the actual listen. */
  deferListen: (listen: () => void) => void;
  /** A request was served (its response ended, or its connection did). */
  onServed: () => void;
  notice: (message: string) => void;
  /** Reports each call of a callback as a hook run of `name` (framework-hooks.ts). */
  timed: <T extends (...args: never[]) => unknown>(name: string, fn: T) => T;
};

/** Marks the close callbacks of the worker runtime itself: not the app's hooks. */
const OWN_CALLBACK = Symbol('arbiter-own-callback');

const BACKLOG = 2048;

export class AppServers {
  private readonly servers = new Set<net.Server>();
  private readonly closed = new WeakSet<net.Server>();
  private listening = 0;
  private expected = 0;
  private accepting = true;
  /** Requests finished: their response ended (or their connection did). */
  served = 0;
  /** The responses not yet ended, with when their request came (performance.now()). */
  private readonly responses = new Map<http.ServerResponse, number>();
  private readonly upgraded = new Set<net.Socket>();
  /** Every connection of the app's servers: the ones that never send a request are closed when stopping. */
  private readonly connections = new Set<net.Socket>();
  /** The connections that have carried a request. */
  private readonly spoken = new WeakSet<net.Socket>();

  constructor(private readonly options: AppServersOptions) {}

  /** Patches `net.Server.prototype.listen`; every http, https, Express, Koa, Fastify server goes through it. */
  install(): void {
    const originalListen = net.Server.prototype.listen; // eslint-disable-line @typescript-eslint/unbound-method
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    net.Server.prototype.listen = function (this: net.Server, ...args: ListenArgs) {
      if (!self.shouldTakeOver(this, args)) return originalListen.apply(this, args as never);
      return self.takeOver(this, args, originalListen);
    } as typeof net.Server.prototype.listen;
  }

  get count(): number {
    return this.servers.size;
  }

  get inflight(): number {
    return this.responses.size;
  }

  /**
   * The requests in flight, oldest first, at most `limit`: method, path (without its query,
   * which may carry tokens) and how long ago each came.
   */
  inflightRequests(limit: number): InFlightRequest[] {
    const now = performance.now();
    const requests: InFlightRequest[] = [];
    for (const [response, since] of this.responses) {
      if (requests.length === limit) break;
      const { method = '?', url = '' } = response.req;
      requests.push({ method, path: url.split('?')[0] || '/', ageMs: Math.round(now - since) });
    }
    return requests;
  }

  private shouldTakeOver(server: net.Server, args: ListenArgs): boolean {
    if (!this.accepting) return false;
    const first = args[0];
    const raw = typeof first === 'object' && first !== null ? (first as { port?: unknown }).port : first;
    const port = typeof raw === 'number' || typeof raw === 'string' ? String(raw) : undefined;
    if (port === this.options.port) return true;
    // The most common mistake in a tutorial app is a hard-coded port: the first HTTP server is
    // the app's server, so serve it on the arbiter's socket anyway and say so.
    const isHttp = server instanceof http.Server || server instanceof https.Server;
    if (this.servers.size === 0 && isHttp && port !== undefined && /^\d+$/.test(port)) {
      this.options.notice(
        `the app listened on port ${port}, not on PORT (${this.options.port}); serving it on the arbiter's socket instead`,
      );
      return true;
    }
    return false;
  }

  private takeOver(
    server: net.Server,
    args: ListenArgs,
    originalListen: typeof net.Server.prototype.listen,
  ): net.Server {
    const callback = args.findLast((arg) => typeof arg === 'function') as (() => void) | undefined;
    if (callback) server.once('listening', callback);
    this.servers.add(server);
    this.makeCloseIdempotent(server);
    this.countRequests(server);
    const [primary, ...extra] = this.options.fds;
    this.options.deferListen(() => {
      if (!this.accepting) return; // stopped while the app still held its readiness
      this.listenOn(server, primary!, originalListen);
      // A net.Server holds one socket; further binds reach the same server through forwarders.
      for (const fd of extra) {
        const forwarder = net.createServer((socket) => server.emit('connection', socket));
        this.servers.add(forwarder);
        this.listenOn(forwarder, fd, originalListen);
      }
    });
    return server;
  }

  private listenOn(server: net.Server, fd: number, originalListen: typeof net.Server.prototype.listen): void {
    this.expected++;
    server.once('listening', () => {
      if (++this.listening === this.expected) this.options.onListening();
    });
    originalListen.call(server, { fd, backlog: BACKLOG });
  }

  private countRequests(server: net.Server): void {
    this.trackUpgrades(server);
    this.refuseAfterStop(server);
    server.on('connection', (socket: net.Socket) => {
      this.connections.add(socket);
      socket.once('close', () => this.connections.delete(socket));
    });
    server.on('request', (_request: http.IncomingMessage, response: http.ServerResponse) => {
      this.responses.set(response, performance.now());
      // One listener shared by every response (no closure, no once-wrapper per request: this
      // runs for every request the app serves).
      response.on('close', this.onResponseClose);
      if (!this.accepting) response.shouldKeepAlive = false;
    });
  }

  /** A response ended (or its connection did): called with the response as `this`. */
  private readonly onResponseClose = ((servers: AppServers) =>
    function (this: http.ServerResponse): void {
      servers.responses.delete(this);
      // Served once finished, as the Python runtime counts (and gunicorn's max-requests): a
      // swap's figures count what the old workers finished (swap-tally.ts).
      servers.served++;
      servers.options.onServed();
      // While draining, a keep-alive connection that just went idle would otherwise hold the
      // worker until the client hangs up.
      if (!servers.accepting)
        for (const server of servers.servers) (server as http.Server).closeIdleConnections?.();
    })(this);

  /**
   * Once stopped, this worker serves no further request on a connection it kept alive: the new
   * generation may already have answered that client, and an answer from old code now would take
   * it back in time. The connection is closed unanswered instead, which an HTTP client takes as
   * a kept-alive connection closed under it: an idempotent request is sent again on a fresh
   * connection (RFC 9112 §9.3.1), where the new code answers. The app's own 'request' listeners
   * never see it, so a POST is not half-run by old code. The first request of a connection
   * accepted before the stop is served: that connection was made before any new code answered.
   */
  private refuseAfterStop(server: net.Server): void {
    const emit = server.emit.bind(server);
    server.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event !== 'request') return emit(event, ...args);
      const { socket } = args[0] as http.IncomingMessage;
      if (this.accepting || !this.spoken.has(socket)) {
        this.spoken.add(socket);
        return emit(event, ...args);
      }
      socket.destroy();
      return true;
    }) as typeof server.emit;
  }

  /**
   * WebSocket connections leave HTTP through 'upgrade'. Listening for it would change how Node
   * treats upgrades (an unanswered one is dropped only when nobody listens), so the worker
   * listens only once the app itself does.
   */
  private trackUpgrades(server: net.Server): void {
    let tracking = false;
    const track = () => {
      tracking = true;
      server.prependListener('upgrade', (_request: http.IncomingMessage, socket: net.Socket) => {
        this.upgraded.add(socket);
        socket.once('close', () => this.upgraded.delete(socket));
      });
    };
    // The app usually registers its upgrade handler before it listens, sometimes after.
    if (server.listenerCount('upgrade') > 0) track();
    else {
      server.on('newListener', (event: string | symbol) => {
        if (event === 'upgrade' && !tracking) track();
      });
    }
  }

  /**
   * Ends the connections that never end by themselves — server-sent event streams, WebSockets,
   * and connections that have not sent a byte (a browser's preconnect: Node counts them as
   * neither idle nor busy, and would wait for them until its request timeout) — so a reload
   * does not wait the whole graceful timeout for them. A connection whose first request is on
   * its way had the grace to send it.
   */
  closeLongLived(): void {
    for (const socket of this.connections) if (socket.bytesRead === 0) socket.destroy();
    for (const response of this.responses.keys()) {
      if (!String(response.getHeader('content-type') ?? '').startsWith('text/event-stream')) continue;
      response.shouldKeepAlive = false; // the connection closes with the stream
      response.end();
    }
    for (const socket of this.upgraded) socket.destroy();
  }

  /** The app may call close() itself after the worker already stopped accepting: that must not fail. */
  private makeCloseIdempotent(server: net.Server): void {
    const originalClose = server.close.bind(server);
    let closing = false;
    server.once('close', () => this.closed.add(server));
    const close = (callback?: (error?: Error) => void) => {
      // The app's own close callback is its shutdown hook (Express and Koa apps close that way);
      // a framework closing its server (Fastify's close) is reported through its own hooks.
      if (callback && !(OWN_CALLBACK in callback) && !calledFromPackage(close))
        callback = this.options.timed(
          `server.close callback${callback.name ? ` ${callback.name}` : ''}`,
          callback,
        );
      if (!closing) {
        closing = true;
        return originalClose(callback);
      }
      if (callback) {
        if (this.closed.has(server)) process.nextTick(callback);
        else server.once('close', () => callback());
      }
      return server;
    };
    server.close = close;
  }

  /** Stops accepting at once; resolves when every connection has ended (in-flight requests done). */
  stopAccepting(): Promise<void> {
    this.accepting = false;
    // Answers not begun yet say `Connection: close`, so that no client sends another request on them.
    for (const response of this.responses.keys()) if (!response.headersSent) response.shouldKeepAlive = false;
    const waits = [...this.servers].map(
      (server) =>
        new Promise<void>((resolve) => {
          if (this.closed.has(server) || !server.listening) return resolve();
          server.close(Object.assign(() => resolve(), { [OWN_CALLBACK]: true }));
          (server as http.Server).closeIdleConnections?.();
        }),
    );
    return Promise.all(waits).then(() => undefined);
  }
}

/** Whether the code that called `fn` is a package's (in node_modules) rather than the app's own. */
function calledFromPackage(fn: (...args: never[]) => unknown): boolean {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, fn); // the stack starts at fn's caller
  // Its first frame in a file (`at new Promise (<anonymous>)` and the like name none).
  const caller = (holder.stack ?? '')
    .split('\n')
    .slice(1)
    .find((frame) => frame.includes(sep) && !frame.includes('(node:'));
  return caller?.includes(`${sep}node_modules${sep}`) ?? false;
}
