/**
 * What a process holds open, read from Linux's /proc: its TCP connections by peer (the service
 * named for the well-known ports), the sockets it listens on, its open files and its child
 * processes. A worker reads its own (/proc/self) just before it exits, after its hooks; the
 * arbiter reads a worker's when the worker cannot answer (it is being killed). The point is the
 * pool an app never closes: "2 connections to PostgreSQL 127.0.0.1:5432 left open at exit".
 *
 * /proc/PID/net/tcp is the table of the process's network namespace; /proc/PID/fd says which
 * of its sockets are the process's own (by inode). Where /proc cannot be read (not Linux,
 * another user's process) the snapshot is empty and says so.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { HELD_LIST_LIMIT, type HeldResources } from '../protocol/events';

/** The services a developer's app most often holds a pool to, by their well-known port. */
const SERVICES: Readonly<Record<number, string>> = {
  5432: 'PostgreSQL',
  6379: 'Redis',
  3306: 'MySQL',
  27017: 'MongoDB',
  9092: 'Kafka',
  5672: 'AMQP',
  11211: 'Memcached',
};

export function serviceOf(port: number): string | undefined {
  return SERVICES[port];
}

/** TCP states in the kernel's numbering (include/net/tcp_states.h) that the snapshot tells apart. */
const ESTABLISHED = '01';
const LISTEN = '0A';

export type TcpEntry = {
  local: string;
  localPort: number;
  remote: string;
  remotePort: number;
  state: string;
  inode: string;
};

/** The sockets one of /proc/net/tcp or tcp6 lists. */
export function parseTcpTable(text: string, v6: boolean): TcpEntry[] {
  const entries: TcpEntry[] = [];
  // "  0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0  0 123456 ..."
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const [, local, remote, state] = fields;
    const inode = fields[9];
    if (!local || !remote || !state || !inode) continue;
    entries.push({
      local: address(local, v6),
      localPort: parseInt(local.slice(local.indexOf(':') + 1), 16),
      remote: address(remote, v6),
      remotePort: parseInt(remote.slice(remote.indexOf(':') + 1), 16),
      state,
      inode,
    });
  }
  return entries;
}

/** "0100007F:1F40" → "127.0.0.1:8000"; IPv6 in the kernel's four little-endian words. */
function address(hexAddress: string, v6: boolean): string {
  const [host, port] = hexAddress.split(':') as [string, string];
  const portNumber = parseInt(port, 16);
  if (!v6) return `${littleEndianIPv4(host)}:${portNumber}`;
  const words = host.match(/.{8}/g) ?? [];
  // An IPv4 client of an IPv6 socket: ::ffff:a.b.c.d
  if (words.slice(0, 2).every((w) => w === '00000000') && words[2] === 'FFFF0000')
    return `${littleEndianIPv4(words[3]!)}:${portNumber}`;
  const groups = words.flatMap((word) => {
    const bytes = word.match(/../g)!.reverse().join('');
    return [bytes.slice(0, 4), bytes.slice(4)].map((group) => parseInt(group, 16).toString(16));
  });
  return `[${compressZeros(groups)}]:${portNumber}`;
}

/** RFC 5952: the longest run of two or more zero groups becomes "::". */
function compressZeros(groups: string[]): string {
  let best = { start: -1, length: 1 };
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (groups[j] === '0') j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j;
  }
  if (best.start < 0) return groups.join(':');
  const head = groups.slice(0, best.start).join(':');
  const tail = groups.slice(best.start + best.length).join(':');
  return `${head}::${tail}`;
}

function littleEndianIPv4(hex: string): string {
  return (hex.match(/../g) ?? [])
    .reverse()
    .map((byte) => parseInt(byte, 16))
    .join('.');
}

export type SnapshotOptions = {
  /** Fds that are the runtime's own, not the app's (stdio, the control channel, the inherited listening sockets). */
  ignoreFds?: ReadonlySet<number>;
  /** Local ports that are the runtime's own (the worker's inspector while a debugger is attached). */
  ownPorts?: ReadonlySet<number>;
  /** Socket inodes known to tell nothing (the runtime's own, found in an earlier look). */
  ignoreInodes?: ReadonlySet<string>;
};

/** The kernel's TCP tables, as text: read from the process's view of its network namespace. */
type TcpTables = { v4: string; v6: string };

/**
 * What `pid` ('self' for this process) holds open now. Reading the TCP tables is the slow part:
 * the kernel writes out every socket of the namespace, and a machine that just ran a load test
 * has tens of thousands in TIME_WAIT (0.5 s measured with 11,600) — so the arbiter reads them
 * asynchronously, and only a process on its way out reads them synchronously.
 */
export function heldResources(pid: number | 'self', options: SnapshotOptions = {}): HeldResources {
  const fds = fdsOf(pid, options);
  return 'unreadable' in fds ? emptyHeld(fds.unreadable) : heldFrom(pid, fds, tcpTablesNow(pid), options);
}

/**
 * The TCP sockets among `pid`'s descriptors that a runtime could not account for itself
 * (`options.ignoreFds`: its own, and those it knows the peers of) — Node's handle list leaves
 * out a socket or server the app unref'd. The kernel's tables are read only when such a socket
 * is there, so the common case stays quick.
 */
export function tcpBeyond(
  pid: number | 'self',
  options: SnapshotOptions = {},
): Pick<HeldResources, 'connections' | 'listening'> & { ownInodes: string[] } {
  const fds = fdsOf(pid, options);
  if ('unreadable' in fds || fds.sockets.size === 0) return { connections: [], listening: [], ownInodes: [] };
  const entries = tcpEntries(tcpTablesNow(pid));
  // The runtime's own (the inspector's thread, on its port): a later look need not read for them.
  const ownInodes = entries
    .filter((entry) => fds.sockets.has(entry.inode) && options.ownPorts?.has(entry.localPort))
    .map((entry) => entry.inode);
  return { ...tcpOf(fds.sockets, entries, options), ownInodes };
}

function tcpTablesNow(pid: number | 'self'): TcpTables {
  const read = (table: string) => {
    try {
      return readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      return ''; // no IPv6 in this kernel
    }
  };
  return { v4: read('tcp'), v6: read('tcp6') };
}

/** The same, with the TCP tables read off the event loop; the descriptors are taken now. */
export async function heldResourcesSoon(
  pid: number | 'self',
  options: SnapshotOptions = {},
): Promise<HeldResources> {
  const fds = fdsOf(pid, options);
  if ('unreadable' in fds) return emptyHeld(fds.unreadable);
  const read = (table: string) => readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
  const [v4, v6] = await Promise.all([read('tcp'), read('tcp6')]);
  return heldFrom(pid, fds, { v4, v6 }, options);
}

/**
 * What `pid` holds besides its TCP sockets (open files, children), from /proc alone: quick, for a
 * runtime that knows its sockets' peers itself.
 */
export function heldBesidesTcp(
  pid: number | 'self',
  options: SnapshotOptions = {},
): Omit<HeldResources, 'connections' | 'listening'> {
  const fds = fdsOf(pid, options);
  if ('unreadable' in fds) return emptyHeld(fds.unreadable);
  const { files, openFiles, children } = heldFrom(pid, fds, { v4: '', v6: '' }, options);
  return { files, openFiles, children };
}

export const emptyHeld = (unreadable?: string): HeldResources => ({
  connections: [],
  listening: [],
  files: [],
  openFiles: 0,
  children: [],
  ...(unreadable ? { unreadable } : {}),
});

type Fds = { sockets: Set<string>; files: string[] } | { unreadable: string };

/** The process's socket inodes and open files, leaving out the runtime's own (options.ignoreFds). */
function fdsOf(pid: number | 'self', options: SnapshotOptions): Fds {
  let links: [number, string][];
  try {
    links = readdirSync(`/proc/${pid}/fd`).flatMap((fd): [number, string][] => {
      try {
        return [[Number(fd), readlinkSync(`/proc/${pid}/fd/${fd}`)]];
      } catch {
        return []; // closed meanwhile
      }
    });
  } catch (error) {
    return { unreadable: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
  // The runtime's own sockets, under any fd: a server made from an inherited fd may hold a dup.
  const own = new Set(links.filter(([fd]) => options.ignoreFds?.has(fd)).map(([, target]) => target));
  const sockets = new Set<string>();
  const files: string[] = [];
  for (const [fd, target] of links) {
    if (options.ignoreFds?.has(fd) || own.has(target)) continue;
    const socket = /^socket:\[(\d+)\]$/.exec(target);
    if (socket) {
      if (!options.ignoreInodes?.has(socket[1]!)) sockets.add(socket[1]!);
    } else if (target.startsWith('/') && !target.startsWith('/dev/') && !target.startsWith('/proc/'))
      files.push(target);
  }
  return { sockets, files };
}

function heldFrom(
  pid: number | 'self',
  fds: { sockets: Set<string>; files: string[] },
  tables: TcpTables,
  options: SnapshotOptions,
): HeldResources {
  return {
    ...tcpOf(fds.sockets, tcpEntries(tables), options),
    files: [...fds.files].sort().slice(0, HELD_LIST_LIMIT),
    openFiles: fds.files.length,
    children: childrenOf(pid).slice(0, HELD_LIST_LIMIT),
  };
}

const tcpEntries = (tables: TcpTables): TcpEntry[] => [
  ...parseTcpTable(tables.v4, false),
  ...parseTcpTable(tables.v6, true),
];

/** Which of `sockets` (inodes) listen, and which are connected to whom, from the TCP tables' entries. */
function tcpOf(
  sockets: ReadonlySet<string>,
  entries: readonly TcpEntry[],
  options: SnapshotOptions,
): Pick<HeldResources, 'connections' | 'listening'> {
  const listening: string[] = [];
  const byPeer = new Map<string, { port: number; count: number }>();
  for (const entry of entries) {
    if (!sockets.has(entry.inode) || options.ownPorts?.has(entry.localPort)) continue;
    if (entry.state === LISTEN) listening.push(entry.local);
    else if (entry.state === ESTABLISHED) {
      const peer = byPeer.get(entry.remote) ?? { port: entry.remotePort, count: 0 };
      peer.count++;
      byPeer.set(entry.remote, peer);
    }
  }
  const connections = [...byPeer].map(([peer, { port, count }]) => {
    const service = serviceOf(port);
    return service ? { peer, service, count } : { peer, count };
  });
  return { connections, listening };
}

/** Direct children of `pid`, from every thread's children list (Linux ≥ 3.5 with CONFIG_PROC_CHILDREN). */
function childrenOf(pid: number | 'self'): { pid: number; command: string }[] {
  const children: { pid: number; command: string }[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return children;
  }
  for (const task of tasks) {
    let list = '';
    try {
      list = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const child of list.trim().split(/\s+/).filter(Boolean)) {
      let command = '';
      try {
        command = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      } catch {
        continue; // gone
      }
      children.push({ pid: Number(child), command: command.slice(0, 200) });
    }
  }
  return children;
}
