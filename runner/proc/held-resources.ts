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

export type TcpEntry = { local: string; remote: string; remotePort: number; state: string; inode: string };

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

export type HeldResources = {
  /** Established TCP connections, grouped by peer. */
  connections: { peer: string; service?: string; count: number }[];
  /** Addresses it listens on itself (not the arbiter's shared sockets). */
  listening: string[];
  /** Regular files open (not devices, pipes or sockets). */
  files: string[];
  children: { pid: number; command: string }[];
  /** Why nothing could be read, when nothing could. */
  unreadable?: string;
};

export type SnapshotOptions = {
  /** Fds that are the runtime's own, not the app's (stdio, the control channel, the inherited listening sockets). */
  ignoreFds?: ReadonlySet<number>;
};

/** What `pid` ('self' for this process) holds open now. */
export function heldResources(pid: number | 'self', options: SnapshotOptions = {}): HeldResources {
  const held: HeldResources = { connections: [], listening: [], files: [], children: [] };
  const socketInodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      if (options.ignoreFds?.has(Number(fd))) continue;
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue; // closed meanwhile
      }
      const socket = /^socket:\[(\d+)\]$/.exec(target);
      if (socket) socketInodes.add(socket[1]!);
      else if (target.startsWith('/') && !target.startsWith('/dev/') && !target.startsWith('/proc/'))
        held.files.push(target);
    }
  } catch (error) {
    return { ...held, unreadable: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
  const byPeer = new Map<string, { port: number; count: number }>();
  for (const [table, v6] of [
    ['tcp', false],
    ['tcp6', true],
  ] as const) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue; // no IPv6 in this kernel
    }
    for (const entry of parseTcpTable(text, v6)) {
      if (!socketInodes.has(entry.inode)) continue;
      if (entry.state === LISTEN) held.listening.push(entry.local);
      else if (entry.state === ESTABLISHED) {
        const peer = byPeer.get(entry.remote) ?? { port: entry.remotePort, count: 0 };
        peer.count++;
        byPeer.set(entry.remote, peer);
      }
    }
  }
  held.connections = [...byPeer].map(([peer, { port, count }]) => {
    const service = serviceOf(port);
    return service ? { peer, service, count } : { peer, count };
  });
  held.children = childrenOf(pid);
  held.files.sort();
  return held;
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
