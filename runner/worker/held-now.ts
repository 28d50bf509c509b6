/**
 * What the app holds open, as the worker reports it: when its stop begins, and after its hooks
 * just before it exits. Its connections and servers come from Node's own handles — exact and
 * instant, where reading the kernel's TCP tables takes half a second on a machine with thousands
 * of sockets in TIME_WAIT — and only a socket those handles do not account for (one the app
 * unref'd) sends the worker to the tables; its files and children come from /proc/self. What the runtime holds
 * (stdio, the control channel, the arbiter's listening sockets, its inspector) and the
 * connections clients made to the app's servers are left out: what remains is the app's own.
 */
import net from 'node:net';
import { CONTROL_FD, type WorkerMessage } from '../protocol/control';
import type { HeldResources } from '../protocol/events';
import { heldBesidesTcp, serviceOf, tcpBeyond } from '../proc/held-resources';
import { inspectorPort } from './inspector';

export class HeldReports {
  private exitSent = false;
  /** Sockets of the runtime's own that only the TCP tables told apart (the inspector's): not read for again. */
  private readonly ownInodes = new Set<string>();
  private listenFds: readonly number[] = [];

  constructor(private readonly send: (message: WorkerMessage) => void) {}

  /** The arbiter's listening sockets, as the boot message names them: never the app's own. */
  booted(listenFds: readonly number[]): void {
    this.listenFds = listenFds;
  }

  /** As the stop begins, before the app's shutdown code runs. */
  atStop(): void {
    this.send({ type: 'resources', at: 'stop', held: this.now() });
  }

  /** After the hooks, as the process exits (however it does). */
  atExit(): void {
    if (this.exitSent) return;
    this.exitSent = true;
    this.send({ type: 'resources', at: 'exit', held: this.now() });
  }

  private now(): HeldResources {
    const own = new Set([0, 1, 2, CONTROL_FD, ...this.listenFds]);
    const inspector = inspectorPort();
    const known = socketsOfApp(own, inspector);
    // What the handle list left out (unref'd), and the inspector's own thread, from /proc.
    const beyond = tcpBeyond('self', {
      ignoreFds: new Set([...own, ...known.fds]),
      ownPorts: new Set(inspector ? [inspector] : []),
      ignoreInodes: this.ownInodes,
    });
    for (const inode of beyond.ownInodes) this.ownInodes.add(inode);
    return {
      connections: mergeByPeer([...known.connections, ...beyond.connections]),
      listening: [...known.listening, ...beyond.listening],
      ...heldBesidesTcp('self', { ignoreFds: own }),
    };
  }
}

type Handle = { fd?: number };
type Connection = HeldResources['connections'][number];

/**
 * The app's outgoing TCP connections by peer, and the servers it listens on itself, from Node's
 * list of what keeps its loop alive — which leaves out what the app unref'd: `fds` are the
 * descriptors it did account for, so that the rest can be read from /proc.
 */
function socketsOfApp(ownFds: ReadonlySet<number>, inspector: number | undefined) {
  const byPeer = new Map<string, { port: number; count: number }>();
  const listening: string[] = [];
  const fds: number[] = [];
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  for (const handle of handles) {
    const fd = (handle as { _handle?: Handle })._handle?.fd;
    if (fd !== undefined && ownFds.has(fd)) continue;
    if (fd !== undefined && fd >= 0) fds.push(fd);
    if (handle instanceof net.Server) {
      const address = handle.address();
      if (address && typeof address === 'object' && address.port !== inspector)
        listening.push(hostPort(address.address, address.port));
    } else if (handle instanceof net.Socket && !(handle as { server?: unknown }).server) {
      const { remoteAddress, remotePort } = handle;
      if (!remoteAddress || !remotePort) continue; // a pipe, or not connected yet
      // Ended by the app: its side is closed, even while the peer has not closed its own yet.
      if (handle.destroyed || !handle.writable) continue;
      const peer = hostPort(remoteAddress, remotePort);
      const entry = byPeer.get(peer) ?? { port: remotePort, count: 0 };
      entry.count++;
      byPeer.set(peer, entry);
    }
  }
  const connections = [...byPeer].map(([peer, { port, count }]) => {
    const service = serviceOf(port);
    return service ? { peer, service, count } : { peer, count };
  });
  return { connections, listening, fds };
}

function mergeByPeer(connections: Connection[]): Connection[] {
  const byPeer = new Map<string, Connection>();
  for (const connection of connections) {
    const seen = byPeer.get(connection.peer);
    byPeer.set(connection.peer, seen ? { ...seen, count: seen.count + connection.count } : connection);
  }
  return [...byPeer.values()];
}

/** "127.0.0.1:6379", "[::1]:5432"; an IPv4 client of an IPv6 socket reads as IPv4. */
function hostPort(address: string, port: number): string {
  const host = address.startsWith('::ffff:') ? address.slice(7) : address;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
