/**
 * Names the service behind a loopback peer that listens on a port of its own choosing: a test's
 * or a dev container's Redis on 6380, PostgreSQL on 5433. The well-known ports are named by
 * held-resources.ts; for the rest, the process listening on the peer's port is found in /proc
 * and its program named. Each port is looked up once for the arbiter's life (a server rarely
 * moves, and the lookup reads every process's fds), and only when a worker reports; the lookup
 * is asynchronous, so a busy machine's thousands of fds never hold the arbiter's loop.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import type { HeldResources } from '../protocol/events';
import { listeningInodes } from './listening-sockets';

/** Program names, as their command lines start, and the service each one is. */
const PROGRAMS: readonly [RegExp, string][] = [
  [/(^|\/)redis-server\b/, 'Redis'],
  [/(^|\/)(postgres|postmaster)\b/, 'PostgreSQL'],
  [/(^|\/)(mysqld|mariadbd)\b/, 'MySQL'],
  [/(^|\/)mongod\b/, 'MongoDB'],
  [/(^|\/)memcached\b/, 'Memcached'],
  [/kafka\.Kafka\b/, 'Kafka'],
  [/rabbit/, 'AMQP'],
];

export function serviceOfProgram(command: string): string | undefined {
  return PROGRAMS.find(([pattern]) => pattern.test(command))?.[1];
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|\[::1\]):(\d+)$/;

/** How long the search for a port's program may take before the peer goes unnamed. */
const LOOKUP_BUDGET_MS = 1_000;

export class LocalServices {
  private readonly byPort = new Map<number, Promise<string | undefined>>();

  /** `held` with its unnamed loopback peers named where a known program listens on their port. */
  async name(held: HeldResources): Promise<HeldResources> {
    if (held.connections.every((connection) => connection.service || !LOOPBACK.test(connection.peer)))
      return held;
    const connections = await Promise.all(
      held.connections.map(async (connection) => {
        const port = LOOPBACK.exec(connection.peer)?.[2];
        if (connection.service || !port) return connection;
        const service = await this.lookUp(Number(port));
        return service ? { ...connection, service } : connection;
      }),
    );
    return { ...held, connections };
  }

  private lookUp(port: number): Promise<string | undefined> {
    let service = this.byPort.get(port);
    if (!service) {
      const deadline = performance.now() + LOOKUP_BUDGET_MS;
      service = programListeningOn(port, deadline).then((command) => command && serviceOfProgram(command));
      this.byPort.set(port, service);
    }
    return service;
  }
}

/** The command line of a process (of those /proc lets us see) listening on `port`. */
async function programListeningOn(port: number, deadline: number): Promise<string | undefined> {
  const wanted = new Set([...listeningInodes(port)].map((inode) => `socket:[${inode}]`));
  if (wanted.size === 0) return undefined;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (performance.now() > deadline) return undefined; // a machine with more processes than time
    const fds = await readdir(`/proc/${entry}/fd`).catch(() => []); // another user's, or gone
    for (const fd of fds) {
      const target = await readlink(`/proc/${entry}/fd/${fd}`).catch(() => '');
      if (!wanted.has(target)) continue;
      const command = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
      return command.replace(/\0+$/, '').replace(/\0/g, ' ');
    }
  }
  return undefined;
}
