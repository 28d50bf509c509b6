/**
 * Which file descriptors the arbiter was given by whoever started it, for `--events /dev/fd/N`.
 * Writing events to any other fd writes into the arbiter's own plumbing: libuv's signal pipe
 * (seen: a SIGSEGV), its epoll fd, a pipe to a child. Two facts tell them apart. The fds open
 * when this module is first evaluated — before the arbiter has opened anything — are the
 * inherited ones plus what Node and libuv opened for themselves, so anything the arbiter opens
 * later (a config's esbuild service, a worker's pipes) is never one. And Node's own are of kinds
 * that no one passes as an events target: anonymous inodes (epoll, eventfd), pipes whose read
 * end is open here too, fds open for reading only.
 *
 * The close-on-exec flag cannot tell them apart on Node: at start-up it marks fds 0 to 15 and
 * the inherited fds that follow without a hole close-on-exec itself
 * (uv_disable_stdio_inheritance), the very fds a parent passes.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** What each fd open at start-up referred to (`/proc/self/fd/N`'s link), by fd. */
const OPEN_AT_START = snapshot();

function snapshot(): Map<number, string> {
  const fds = new Map<number, string>();
  try {
    for (const name of readdirSync('/proc/self/fd')) {
      try {
        fds.set(Number(name), readlinkSync(`/proc/self/fd/${name}`));
      } catch {
        // the fd readdir itself used, closed again
      }
    }
  } catch {
    // no /proc: every /dev/fd target is refused below, with the reason
  }
  return fds;
}

const O_ACCMODE = 0o3;
const O_RDONLY = 0o0;

/** The access-mode bits of an fd of this process (from `flags:` in /proc/self/fdinfo, octal). */
function accessMode(fd: number): number | undefined {
  try {
    const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
    return flags === undefined ? undefined : Number.parseInt(flags, 8) & O_ACCMODE;
  } catch {
    return undefined;
  }
}

/**
 * Why `fd` cannot take the event stream — it was not given to the arbiter, or not for
 * writing — or undefined when it can.
 */
export function whyNotInherited(fd: number): string | undefined {
  const link = OPEN_AT_START.get(fd);
  let now: string | undefined;
  try {
    now = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    now = undefined;
  }
  if (link === undefined || now !== link) return `fd ${fd} is not open in the arbiter`;
  if (link.startsWith('anon_inode:'))
    return `fd ${fd} was not given to the arbiter (it is Node's own ${link})`;
  if (accessMode(fd) === O_RDONLY) return `fd ${fd} is open for reading only`;
  const readEndHere = [...OPEN_AT_START].some(
    ([other, otherLink]) => other !== fd && otherLink === link && accessMode(other) === O_RDONLY,
  );
  if (link.startsWith('pipe:') && readEndHere)
    return `fd ${fd} was not given to the arbiter (it is one end of Node's own ${link})`;
  return undefined;
}
