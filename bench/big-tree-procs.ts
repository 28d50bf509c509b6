/**
 * Memory and CPU of a runner's whole process tree, for bench/big-tree.ts. RSS counts a page
 * shared by several processes (the node binary, forked pages) once per process; PSS divides it
 * among them, so the PSS sum is what the tree really costs the machine. Both come from
 * /proc/PID/smaps_rollup, read in one pass per process.
 */
import { readFileSync } from 'node:fs';
import { cpuDuring } from './measure';
import { commandLine, processTree } from './proc';

export type TreeMember = { pid: number; command: string; rssBytes: number; pssBytes: number };

export type TreeMemory = {
  /** The supervisor's own RSS (the arbiter, or nodemon). */
  supervisorRssBytes: number;
  rssBytes: number;
  pssBytes: number;
  members: TreeMember[];
};

/** `Rss:` and `Pss:` of /proc/PID/smaps_rollup in bytes (0 when the process is gone). */
function rollup(pid: number): { rssBytes: number; pssBytes: number } {
  let text = '';
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    // gone meanwhile: counts as nothing
  }
  const kB = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { rssBytes: kB('Rss'), pssBytes: kB('Pss') };
}

/**
 * The supervisor and every descendant. Followed by parent pid rather than process group: the
 * arbiter puts each worker and standby in a group of its own.
 */
export function treeMemory(supervisor: number): TreeMemory {
  const members = processTree(supervisor).map((pid) => ({ pid, command: commandLine(pid), ...rollup(pid) }));
  const sum = (pick: (member: TreeMember) => number) => members.reduce((total, m) => total + pick(m), 0);
  return {
    supervisorRssBytes: members[0]?.rssBytes ?? 0,
    rssBytes: sum((m) => m.rssBytes),
    pssBytes: sum((m) => m.pssBytes),
    members,
  };
}

/** CPU (% of one core) over `ms`: the supervisor, its whole tree, and the rest of the machine. */
export async function treeCpu(
  supervisor: number,
  ms: number,
): Promise<{ supervisor: number; tree: number; others: number }> {
  const pids = processTree(supervisor);
  const use = await cpuDuring(pids, () => new Promise((resolve) => setTimeout(resolve, ms)));
  const tree = [...use.byPid.values()].reduce((sum, value) => sum + value, 0);
  return { supervisor: use.byPid.get(supervisor) ?? NaN, tree, others: use.others };
}

/** The process group of `pid` (field 5 of /proc/PID/stat), or undefined when it is gone. */
export function processGroup(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

/** SIGKILL to every process group in `groups` but our own: what a stopped runner left behind. */
export function killGroups(groups: Iterable<number>): void {
  const own = processGroup(process.pid);
  for (const group of groups) {
    if (group <= 1 || group === own) continue;
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
