/** Snapshots of CPU and memory for a supervisor process and its tree, from /proc. */
import { CLOCK_TICKS, commandLine, cpuTicks, machineTicks, processTree, rssBytes } from './proc';

/** Percent of one core each pid used between two tick readings `seconds` apart. */
export function cpuPercent(ticksBefore: number, ticksAfter: number, seconds: number): number {
  return ((ticksAfter - ticksBefore) / CLOCK_TICKS / seconds) * 100;
}

/** CPU used while something ran, % of one core: per pid, and by every other process. */
export type CpuUse = {
  byPid: Map<number, number>;
  /** The machine's busy time (including interrupts) not accounted to `pids`: other load. */
  others: number;
  /** Time the hypervisor gave to other guests. */
  steal: number;
};

/** CPU used by `pids`, and by the rest of the machine, while `during` runs. */
export async function cpuDuring(pids: readonly number[], during: () => Promise<unknown>): Promise<CpuUse> {
  const before = new Map(pids.map((pid) => [pid, cpuTicks(pid)]));
  const machineBefore = machineTicks();
  const startedAt = performance.now();
  await during();
  const seconds = (performance.now() - startedAt) / 1000;
  const machineAfter = machineTicks();
  const byPid = new Map(pids.map((pid) => [pid, cpuPercent(before.get(pid)!, cpuTicks(pid), seconds)]));
  const ours = [...byPid.values()].reduce((sum, value) => sum + value, 0);
  const busy = cpuPercent(machineBefore.busy, machineAfter.busy, seconds);
  return {
    byPid,
    others: Math.max(0, busy - ours),
    steal: cpuPercent(machineBefore.steal, machineAfter.steal, seconds),
  };
}

/** Resident memory of a process and of its whole tree, with what each member is. */
export type MemorySnapshot = {
  rootBytes: number;
  treeBytes: number;
  members: { pid: number; bytes: number; command: string }[];
};

export function memoryOf(root: number): MemorySnapshot {
  const members = processTree(root).map((pid) => ({ pid, bytes: rssBytes(pid), command: commandLine(pid) }));
  return {
    rootBytes: rssBytes(root),
    treeBytes: members.reduce((sum, member) => sum + member.bytes, 0),
    members,
  };
}
