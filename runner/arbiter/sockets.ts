/**
 * The arbiter's listening sockets. They are bound here and live as long as the arbiter, but
 * the arbiter never accepts on them: the sockets are bound without libuv watching them, and
 * only the workers (which inherit the fds) listen and accept. A connection that arrives while
 * no worker is accepting waits in the kernel's backlog instead of being refused.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { lookup } from 'node:dns/promises';
import { getSystemErrorName } from 'node:util';
import { formatBindAddress, type BindAddress } from '../config/bind-address';
import { UsageError } from '../config/option-values';
import type { Listener } from '../protocol/events';

/** The parts of libuv's TCP/Pipe handle that binding needs (Node internals, stable since v0.x). */
type RawHandle = { fd: number; getsockname?(out: Record<string, unknown>): number; close(): void };
type NetInternals = {
  _createServerHandle(
    address: string,
    port: number,
    addressType: number,
    fd?: number,
    flags?: number,
  ): RawHandle | number;
};

export type BoundSocket = {
  address: BindAddress;
  /** The fd workers inherit. */
  fd: number;
  /** The address as bound (the real port when port 0 was asked for). */
  listener: Listener;
  close(): void;
};

const HINTS: Record<string, string> = {
  EADDRINUSE: 'address already in use: another process listens there (pick another with --bind)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'this machine has no such address',
  ENOENT: 'the directory does not exist',
};

function bindError(address: BindAddress, code: number | string): UsageError {
  const name = typeof code === 'number' ? getSystemErrorName(code) : code;
  return new UsageError(`cannot listen on ${formatBindAddress(address)}: ${HINTS[name] ?? name} (${name})`);
}

export async function bindAll(addresses: readonly BindAddress[]): Promise<BoundSocket[]> {
  const bound: BoundSocket[] = [];
  try {
    for (const address of addresses) bound.push(await bindOne(address));
  } catch (error) {
    for (const socket of bound) socket.close();
    throw error;
  }
  return bound;
}

async function bindOne(address: BindAddress): Promise<BoundSocket> {
  const internals = net as unknown as NetInternals;
  if (address.kind === 'unix') {
    await removeStaleSocket(address);
    const handle = internals._createServerHandle(address.path, -1, -1);
    if (typeof handle === 'number') throw bindError(address, handle);
    return {
      address,
      fd: handle.fd,
      listener: { path: address.path },
      close: () => {
        handle.close();
        try {
          unlinkSync(address.path);
        } catch {
          // already gone
        }
      },
    };
  }
  let host = address.host;
  if (!net.isIP(host)) {
    try {
      host = (await lookup(host)).address;
    } catch {
      throw new UsageError(`cannot listen on ${formatBindAddress(address)}: unknown host '${address.host}'`);
    }
  }
  const handle = internals._createServerHandle(host, address.port, net.isIPv6(host) ? 6 : 4, undefined, 0);
  if (typeof handle === 'number') throw bindError(address, handle);
  // libuv defers EADDRINUSE from bind() to listen(); getsockname() reports it now.
  const out: Record<string, unknown> = {};
  const status = handle.getsockname?.(out) ?? 0;
  if (status < 0) {
    handle.close();
    throw bindError(address, status);
  }
  return {
    address,
    fd: handle.fd,
    listener: {
      host: typeof out.address === 'string' ? out.address : host,
      port: Number(out.port ?? address.port),
    },
    close: () => handle.close(),
  };
}

/** A socket file left by a server that was killed is removed; a live one is refused. */
async function removeStaleSocket(address: { kind: 'unix'; path: string }): Promise<void> {
  let stat;
  try {
    stat = lstatSync(address.path);
  } catch {
    return;
  }
  if (!stat.isSocket()) {
    throw new UsageError(`cannot listen on unix:${address.path}: the path exists and is not a socket`);
  }
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.connect(address.path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw bindError(address, 'EADDRINUSE');
  unlinkSync(address.path);
}

/** The URL a person opens, for the first TCP listener. */
export function urlOf(listener: Listener): string | undefined {
  if (!('port' in listener)) return undefined;
  const host = listener.host === '0.0.0.0' || listener.host === '::' ? 'localhost' : listener.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${listener.port}/`;
}
