/**
 * The last line of defence against orphans: a tiny shell process that knows every worker's
 * process group, the arbiter's cgroup folder and the mark in its workers' environment, and when
 * the arbiter's pipe to it closes — however the arbiter ended, SIGKILL of its whole process
 * group (the editor's Force Stop) included — kills all of it. Workers also leave on their own
 * when their control channel closes; the reaper covers the ones that cannot (a worker frozen in
 * a busy loop, a new generation still booting) and what they started: TERM-ignoring children
 * in their group, and, through the cgroup or the environment mark, children that left it.
 *
 * It runs in a session of its own, so that nothing aimed at the arbiter's group or terminal
 * reaches it, and ignores signals besides: only the closed pipe ends it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Time workers get to run their quick hooks after the arbiter vanished. */
const GRACE_SECONDS = 0.5;

/** The variable that marks every process a worker started, wherever it went since. */
export const MARK_VARIABLE = 'ARBITER_RUN';

const SCRIPT = `
trap '' INT TERM HUP QUIT TSTP TTIN TTOU
groups=' '
cgroup=''
mark=''
while IFS= read -r line; do
  case "$line" in
    +*) groups="$groups\${line#+} " ;;
    -*) groups=$(printf '%s' "$groups" | sed "s/ \${line#-} / /") ;;
    cgroup\\ *) cgroup=\${line#cgroup } ;;
    mark\\ *) mark=\${line#mark } ;;
  esac
done
# Workers still running get a moment for their quick hooks; after a clean stop none are left.
[ "$groups" = ' ' ] || sleep ${GRACE_SECONDS}
for group in $groups; do kill -9 -"$group" 2>/dev/null; done
if [ -n "$cgroup" ] && [ -d "$cgroup" ]; then
  if [ -e "$cgroup/cgroup.kill" ]; then echo 1 > "$cgroup/cgroup.kill"
  else for pid in $(cat $(find "$cgroup" -name cgroup.procs) 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  fi
fi
if [ -n "$mark" ]; then
  for environ in $(grep -lzxF "${MARK_VARIABLE}=$mark" /proc/[0-9]*/environ 2>/dev/null); do
    pid=\${environ#/proc/}
    kill -9 "\${pid%/environ}" 2>/dev/null
  done
fi
if [ -n "$cgroup" ] && [ -d "$cgroup" ]; then
  tries=0
  while grep -q 'populated 1' "$cgroup/cgroup.events" 2>/dev/null && [ $tries -lt 40 ]; do
    sleep 0.05
    tries=$((tries + 1))
  done
  find "$cgroup" -depth -type d -exec rmdir {} \\; 2>/dev/null
fi
exit 0
`;

export class OrphanReaper {
  private readonly child: ChildProcess | undefined;

  /**
   * `cgroup`: the arbiter's cgroup folder, if it has one; `mark`: the value of
   * {@link MARK_VARIABLE} in its workers' environment.
   */
  constructor(options: { cgroup?: string; mark: string }) {
    if (process.platform === 'win32' || !existsSync('/bin/sh')) return;
    this.child = spawn('/bin/sh', ['-c', SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    this.child.on('error', () => undefined);
    this.child.stdin?.on('error', () => undefined);
    // The reaper must never keep the arbiter alive.
    this.child.unref();
    (this.child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    if (options.cgroup) this.send(`cgroup ${options.cgroup}`);
    this.send(`mark ${options.mark}`);
  }

  watch(pid: number): void {
    this.send(`+${pid}`);
  }

  forget(pid: number): void {
    this.send(`-${pid}`);
  }

  /** A clean shutdown: what is left (children that outlived their worker) goes at once. */
  close(): void {
    this.child?.stdin?.end();
  }

  private send(line: string): void {
    this.child?.stdin?.write(`${line}\n`);
  }
}
