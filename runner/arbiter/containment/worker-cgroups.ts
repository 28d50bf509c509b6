/**
 * A cgroup v2 per worker, under one folder of this arbiter's: what Linux gives a supervisor to
 * find every descendant of a worker, including those that left its process group and session
 * (a daemon's `setsid`, a double fork), which no group signal reaches. Children start in their
 * parent's cgroup and cannot leave it without write access to the cgroup tree, so a worker's
 * cgroup holds its whole tree; `cgroup.kill` ends all of it at once.
 *
 * Used where the arbiter may create cgroups below its own (root; a systemd user session's
 * delegated subtree). Elsewhere `open()` returns undefined and the process groups, the
 * workers' own orphan handling and the reaper's environment scan do the work.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where this process's cgroup v2 is in the file system, if it has one. */
function ownCgroupDir(): string | undefined {
  let path: string | undefined;
  let mounts: string;
  try {
    path = /^0::(\/.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
    mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  if (!path) return undefined;
  for (const line of mounts.split('\n')) {
    // "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw"
    const [fields, fsType] = line.split(' - ');
    if (!fsType?.startsWith('cgroup2 ')) continue;
    const [, , , root, mountPoint] = fields!.split(' ');
    if (!root || !mountPoint) continue;
    if (root === '/') return join(mountPoint, path);
    if (path === root || path.startsWith(`${root}/`)) return join(mountPoint, path.slice(root.length));
  }
  return undefined;
}

export class WorkerCgroups {
  private constructor(
    /** This arbiter's folder: one cgroup per worker (or standby) below it, named by pid. */
    readonly dir: string,
  ) {}

  /** The arbiter's cgroup folder, made now; undefined where cgroups cannot be made. */
  static open(): WorkerCgroups | undefined {
    const own = ownCgroupDir();
    if (!own || process.platform !== 'linux') return undefined;
    const dir = join(own, `arbiter-${process.pid}`);
    try {
      mkdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
    }
    return new WorkerCgroups(dir);
  }

  /**
   * Moves a just-started process into a cgroup of its own. Moving needs write access where the
   * arbiter's cgroup is, which creating a folder did not prove: false when it failed (the
   * process is then looked after without one).
   */
  add(pid: number): boolean {
    const dir = join(this.dir, String(pid));
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'cgroup.procs'), String(pid));
      return true;
    } catch {
      this.remove(pid);
      return false;
    }
  }

  /** Pids in the process's cgroup: it and every descendant still running. */
  members(pid: number): number[] {
    try {
      const text = readFileSync(join(this.dir, String(pid), 'cgroup.procs'), 'utf8');
      return text.split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** Sends `signal` to everything in the process's cgroup. */
  signal(pid: number, signal: NodeJS.Signals): void {
    for (const member of this.members(pid)) {
      try {
        process.kill(member, signal);
      } catch {
        // gone meanwhile
      }
    }
  }

  /** Kills everything in the process's cgroup: `cgroup.kill` (Linux 5.14), else one by one. */
  kill(pid: number): void {
    const killFile = join(this.dir, String(pid), 'cgroup.kill');
    if (existsSync(killFile)) {
      try {
        writeFileSync(killFile, '1');
        return;
      } catch {
        // fall back to signals
      }
    }
    this.signal(pid, 'SIGKILL');
  }

  /** Removes the process's cgroup; false while something still runs in it. */
  remove(pid: number): boolean {
    try {
      rmdirSync(join(this.dir, String(pid)));
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENOENT';
    }
  }
}
