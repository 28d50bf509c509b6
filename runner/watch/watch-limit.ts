/**
 * Saying which kernel limit stopped the watcher, in one line a user can act on. inotify
 * watches (one per folder) are counted per user, shared with every other program of that
 * user (an editor watches the same tree), and capped by `fs.inotify.max_user_watches`; inside
 * a user namespace (a container, `unshare -U`) by that namespace's own
 * /proc/sys/user/max_inotify_watches too. Whichever is smaller is the one that was hit.
 */
import { readRegularFile } from '../fs/read-regular-file';

/** The error codes of a watch the kernel refused for a limit (not for a missing folder). */
export const LIMIT_ERRORS: ReadonlySet<string> = new Set(['ENOSPC', 'EMFILE']);

const SYSCTL = 'fs.inotify.max_user_watches';
const NAMESPACE_LIMIT = '/proc/sys/user/max_inotify_watches';
/** What to raise the limit to when it is below: the value most distributions' guides give. */
const SUGGESTED = 524_288;

/** A kernel setting as a number, if it can be read. */
function readLimit(path: string): number | undefined {
  const read = readRegularFile(path, 64);
  const value = read.ok ? Number(read.data.toString('utf8').trim()) : NaN;
  return Number.isSafeInteger(value) ? value : undefined;
}

/** The limit in effect: its name, as a user would set it, and its value. */
export function watchLimit(): { name: string; value: number } | undefined {
  const sysctl = readLimit(`/proc/sys/${SYSCTL.replaceAll('.', '/')}`);
  const namespace = readLimit(NAMESPACE_LIMIT);
  if (namespace !== undefined && (sysctl === undefined || namespace < sysctl))
    return { name: NAMESPACE_LIMIT, value: namespace };
  return sysctl === undefined ? undefined : { name: SYSCTL, value: sysctl };
}

/** The one warning for `folders` folders the kernel would not watch, polled every `pollMs` instead. */
export function describeWatchLimit(code: string, folders: number, pollMs: number): string {
  const polled = `${folders} folder${folders === 1 ? '' : 's'} past it are polled every ${pollMs / 1000} s instead`;
  if (code !== 'ENOSPC')
    return `cannot watch more folders (${code}: too many open files or inotify instances, fs.inotify.max_user_instances): ${polled}`;
  const limit = watchLimit();
  const raise = Math.max(SUGGESTED, (limit?.value ?? 0) * 2);
  const inNamespace =
    limit?.name === NAMESPACE_LIMIT ? ` (in this user namespace: echo ${raise} > ${NAMESPACE_LIMIT})` : '';
  const whose =
    limit?.name === NAMESPACE_LIMIT ? "this user namespace's limit" : "for all of this user's programs";
  const named = limit ? ` (${limit.name} = ${limit.value}, ${whose})` : '';
  return `the inotify watch limit is reached${named}: ${polled}; raise it with sudo sysctl ${SYSCTL}=${raise}${inNamespace}`;
}
