/**
 * Who listens where, read from Linux's /proc: `/proc/net/tcp` and `tcp6` list every TCP socket
 * with its state and inode, and `/proc/PID/fd` says which process holds which inode. Used when
 * a port is taken, to name the process that holds it (an arbiter left from an earlier run, say);
 * only processes the arbiter's user may look into can be named.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** TCP_LISTEN in the kernel's numbering (include/net/tcp_states.h). */
const LISTEN = '0A';

/** Inodes of the TCP sockets listening on `port`, on any address. */
export function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    // "  0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0  0 123456 ..."
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (!local || fields[3] !== LISTEN) continue;
      if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && fields[9]) inodes.add(fields[9]);
    }
  }
  return inodes;
}

/** The processes holding one of `inodes` open: pid and command line (as far as /proc lets us see). */
export function holdersOf(inodes: ReadonlySet<string>): { pid: number; command: string }[] {
  if (inodes.size === 0) return [];
  const wanted = new Set([...inodes].map((inode) => `socket:[${inode}]`));
  const holders: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // another user's, or gone
    }
    const holds = fds.some((fd) => {
      try {
        return wanted.has(readlinkSync(`/proc/${entry}/fd/${fd}`));
      } catch {
        return false;
      }
    });
    if (holds) holders.push({ pid: Number(entry), command: commandLine(Number(entry)) });
  }
  return holders;
}

/** A process's command line, short. */
export function commandLine(pid: number, max = 100): string {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '?';
  }
  // Arguments are NUL-separated (the logger escapes whatever else is unprintable).
  const text = raw.replace(/\0+$/, '').replace(/\0/g, ' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A process's parent, from /proc/PID/stat. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/**
 * "pid 123 (node .../cli.js app.js)" for the process that listens on `port`: of a tree of
 * holders (a server and its workers, which inherit the socket), the one at the top.
 */
export function describePortHolder(port: number): string | undefined {
  const holders = holdersOf(listeningInodes(port));
  const pids = new Set(holders.map((holder) => holder.pid));
  const top = holders.find((holder) => !pids.has(parentOf(holder.pid) ?? 0)) ?? holders[0];
  return top && `pid ${top.pid} (${top.command})`;
}
