/**
 * Another local user, for tests of what a neighbour on the same machine can do to the arbiter:
 * created once with useradd (the tests run as root in CI), then used through spawn's uid/gid.
 * Undefined when the tests do not run as root; such tests skip and say why.
 */
import { execFileSync, spawnSync } from 'node:child_process';

export type LocalUser = { name: string; uid: number; gid: number };

const NAME = 'arbiter-neighbour';

export const NOT_ROOT = 'needs root, to create and act as another local user';

export function neighbour(): LocalUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, NAME], { encoding: 'utf8' }).trim());
  if (spawnSync('id', ['-u', NAME]).status !== 0) {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', NAME]);
  }
  return { name: NAME, uid: id('-u'), gid: id('-g') };
}

/** Runs a command as `user`; throws with its stderr if it fails. */
export function asUser(user: LocalUser, command: string, args: string[]): void {
  const result = spawnSync(command, args, { uid: user.uid, gid: user.gid, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} as ${user.name}: ${result.stderr}`);
}
