/**
 * The arbiter's listening sockets. They are bound and put in the listening state here and live
 * as long as the arbiter, but the arbiter never accepts on them: libuv never watches them, and
 * only the workers (which inherit the fds) accept. A connection that arrives while no worker is
 * accepting — before the first one is ready, between generations — waits in the kernel's
 * backlog instead of being refused, and a second server on the same port fails at once.
 */
import { spawn } from 'node:child_process';
import { lstatSync, statSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import { lookup } from 'node:dns/promises';
import { getSystemErrorName } from 'node:util';
import { formatBindAddress, type BindAddress } from '../config/bind-address';
import { UsageError } from '../errors/usage-error';
import type { Listener } from '../protocol/events';
import { describePortHolder } from '../proc/listening-sockets';

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

/** The kernel's queue of connections not yet accepted, as the workers ask for it too. */
const BACKLOG = 2048;

function hint(address: BindAddress, name: string): string {
  switch (name) {
    case 'EADDRINUSE': {
      const holder = address.kind === 'tcp' ? describePortHolder(address.port) : undefined;
      return `address already in use${holder ? ` by ${holder}` : ': another process listens there'} (pick another with --bind)`;
    }
    case 'EACCES':
      return address.kind === 'unix'
        ? `permission denied: you may not create a socket in ${dirname(address.path)}`
        : 'permission denied (ports below 1024 need privileges)';
    case 'EADDRNOTAVAIL':
      return 'this machine has no such address';
    default:
      return name;
  }
}

function bindError(address: BindAddress, code: number | string): UsageError {
  const name = typeof code === 'number' ? getSystemErrorName(code) : code;
  return new UsageError(`cannot listen on ${formatBindAddress(address)}: ${hint(address, name)} (${name})`);
}

export async function bindAll(addresses: readonly BindAddress[]): Promise<BoundSocket[]> {
  const bound: BoundSocket[] = [];
  try {
    for (const address of addresses) bound.push(await bindOne(address));
    await listenAll(bound);
  } catch (error) {
    for (const socket of bound) socket.close();
    throw error;
  }
  return bound;
}

/**
 * Puts the bound sockets in the listening state without the arbiter ever accepting: listen(2)
 * is made by a short-lived child that inherits them, and exits before its event loop could
 * accept a connection (libuv only accepts while polling, and the child never polls). Node has
 * no way to listen on a socket in this process without libuv watching it.
 */
function listenAll(sockets: readonly BoundSocket[]): Promise<void> {
  const script = `
    const net = require('node:net');
    const failed = [];
    for (let i = 0; i < ${sockets.length}; i++) {
      const server = new net.Server();
      server.on('error', (error) => failed.push(i + ' ' + error.code));
      server.listen({ fd: 3 + i, backlog: ${BACKLOG} });
    }
    process.nextTick(() => { process.stdout.write(failed.join('\\n')); process.exit(failed.length ? 1 : 0); });`;
  return new Promise((resolve, reject) => {
    // Not the arbiter's stderr: a child given it makes that pipe blocking for the arbiter too
    // (libuv clears O_NONBLOCK on a child's fds 0-2), and a terminal that stops reading would
    // then stop the arbiter. What it says on a crash ends up in the error instead.
    const child = spawn(process.execPath, ['-e', script], {
      stdio: ['ignore', 'pipe', 'pipe', ...sockets.map((socket) => socket.fd)],
    });
    let out = '';
    let errors = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
    child.once('error', (error) => reject(new UsageError(`cannot listen: ${error.message}`)));
    child.once('close', (code) => {
      if (code === 0) return resolve();
      const [index, name] = out.split('\n')[0]?.split(' ') ?? [];
      const socket = sockets[Number(index)];
      reject(
        socket
          ? bindError(socket.address, name ?? 'error')
          : new UsageError(`cannot listen: ${out || errors.trim().split('\n').at(-1)}`),
      );
    });
  });
}

async function bindOne(address: BindAddress): Promise<BoundSocket> {
  const internals = net as unknown as NetInternals;
  if (address.kind === 'unix') {
    const folder = dirname(address.path);
    try {
      statSync(folder);
    } catch {
      throw new UsageError(`cannot listen on unix:${address.path}: the folder ${folder} does not exist`);
    }
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
  try {
    unlinkSync(address.path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(
      `cannot listen on unix:${address.path}: a socket left there by uid ${stat.uid} cannot be removed (${code}); remove it or pick another path`,
    );
  }
}

/** The URL a person opens, for the first TCP listener. */
export function urlOf(listener: Listener): string | undefined {
  if (!('port' in listener)) return undefined;
  const host = listener.host === '0.0.0.0' || listener.host === '::' ? 'localhost' : listener.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${listener.port}/`;
}

/** What the app sees in PORT: the first TCP port, else the first socket path. */
export function primaryPort(sockets: readonly BoundSocket[]): string {
  const tcp = sockets.find((socket) => 'port' in socket.listener);
  if (tcp && 'port' in tcp.listener) return String(tcp.listener.port);
  const first = sockets[0]?.listener;
  return first && 'path' in first ? first.path : '';
}

/** A listener as a person writes it: `unix:PATH`, or HOST:PORT as --bind takes it. */
export function listenerName(listener: Listener): string {
  return 'path' in listener ? `unix:${listener.path}` : formatBindAddress({ kind: 'tcp', ...listener });
}
