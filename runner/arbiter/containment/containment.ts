/**
 * Where every worker process is kept, so that nothing it starts outlives it: each is put in
 * the orphan reaper's care and (where Linux lets the arbiter make them) a cgroup of its own the
 * moment it exists, before it can start anything; when it exits, what it left behind — in its
 * process group, or escaped from it but found through its cgroup — is asked to leave, then
 * made to.
 */
import { randomBytes } from 'node:crypto';
import { MARK_VARIABLE, OrphanReaper } from './orphan-reaper';
import { WorkerCgroups } from './worker-cgroups';

/** After a worker exits, leftovers in its process group get SIGTERM, then SIGKILL this much later. */
const GROUP_KILL_DELAY_MS = 1_000;

export class Containment {
  /** In every worker's environment, and so in everything it starts (see OrphanReaper). */
  readonly mark = `${process.pid}-${randomBytes(6).toString('hex')}`;
  private cgroups: WorkerCgroups | undefined;
  private readonly reaper: OrphanReaper;

  constructor() {
    this.cgroups = WorkerCgroups.open();
    this.reaper = new OrphanReaper({
      mark: this.mark,
      ...(this.cgroups ? { cgroup: this.cgroups.dir } : {}),
    });
  }

  /** The cgroup folder the workers' cgroups are made in, if there is one. */
  get cgroup(): string | undefined {
    return this.cgroups?.dir;
  }

  /** The variables that mark a worker's environment. */
  get env(): Record<string, string> {
    return { [MARK_VARIABLE]: this.mark };
  }

  /** A worker process just started: from now on its whole tree is known. */
  hold(pid: number): void {
    this.reaper.watch(pid);
    // A cgroup that cannot be joined (the delegation went away) means none for later workers either.
    if (this.cgroups && !this.cgroups.add(pid)) this.cgroups = undefined;
  }

  /** A process that ran nothing of the app (a standby not needed): let it go. */
  release(pid: number): void {
    this.reaper.forget(pid);
    this.cgroups?.remove(pid);
  }

  /**
   * The worker process `pid` exited: what it may have left — in its process group (signalled
   * through `signalGroup`), or out of it in its cgroup — gets SIGTERM, and SIGKILL a moment later.
   */
  cleanUpAfter(pid: number, signalGroup: (signal: NodeJS.Signals) => boolean): void {
    const cgroups = this.cgroups;
    const inGroup = signalGroup('SIGTERM');
    const escaped = cgroups?.members(pid).length ?? 0;
    cgroups?.signal(pid, 'SIGTERM');
    if (!inGroup && escaped === 0) return this.release(pid);
    setTimeout(() => {
      signalGroup('SIGKILL');
      cgroups?.kill(pid);
      this.reaper.forget(pid);
      if (cgroups) removeWhenEmpty(cgroups, pid);
    }, GROUP_KILL_DELAY_MS).unref();
  }

  close(): void {
    this.reaper.close();
  }
}

/** A cgroup goes once what was killed in it has died (a few milliseconds); the reaper removes what is left at exit. */
function removeWhenEmpty(cgroups: WorkerCgroups, pid: number, tries = 20): void {
  if (cgroups.remove(pid) || tries === 0) return;
  setTimeout(() => removeWhenEmpty(cgroups, pid, tries - 1), 50).unref();
}
