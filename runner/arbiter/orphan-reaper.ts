/**
 * A last line of defence against orphans: a tiny shell process that knows every worker's
 * process group and kills them all when the arbiter's pipe to it closes — which happens
 * however the arbiter dies, SIGKILL included. Workers also leave on their own when their
 * control channel closes; the reaper covers the ones that cannot (a worker frozen in a busy
 * loop, grandchildren that ignore signals).
 *
 * It stays in the arbiter's process group so that it dies with the terminal session, and
 * ignores the terminal's signals so that Ctrl+C remains the arbiter's decision.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Time workers get to run their quick hooks after the arbiter vanished. */
const GRACE_SECONDS = 0.5;

const SCRIPT = `
trap '' INT TERM HUP QUIT TSTP TTIN TTOU
groups=' '
while IFS= read -r line; do
  case "$line" in
    +*) groups="$groups\${line#+} " ;;
    -*) groups=$(printf '%s' "$groups" | sed "s/ \${line#-} / /") ;;
  esac
done
[ "$groups" = ' ' ] && exit 0
sleep ${GRACE_SECONDS}
for group in $groups; do kill -9 -"$group" 2>/dev/null; done
`;

export class OrphanReaper {
  private readonly child: ChildProcess | undefined;

  constructor() {
    if (process.platform === 'win32' || !existsSync('/bin/sh')) return;
    this.child = spawn('/bin/sh', ['-c', SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'] });
    this.child.on('error', () => undefined);
    this.child.stdin?.on('error', () => undefined);
    // The reaper must never keep the arbiter alive.
    this.child.unref();
    (this.child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  }

  watch(pid: number): void {
    this.child?.stdin?.write(`+${pid}\n`);
  }

  forget(pid: number): void {
    this.child?.stdin?.write(`-${pid}\n`);
  }

  /** A clean shutdown: nothing left to reap. */
  close(): void {
    this.child?.stdin?.end();
  }
}
