/**
 * The files the arbiter itself writes, which are never changes: run inside the project
 * (`arbiter --events ./events.ndjson app.js`, `arbiter app.js > server.log 2>&1`), every line
 * it wrote would start a cycle, and every cycle writes more lines — ten reloads a second for
 * ever. They are the `--events` files and whatever regular files its stdout, stderr and
 * `/dev/fd/N` event targets are (a pipe or a terminal is nobody's source).
 */
import { fstatSync, readlinkSync, realpathSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

const INHERITED = /^\/dev\/fd\/(\d+)$/;

/** The absolute paths the arbiter writes to, given its `--events` targets and its cwd. */
export function arbiterOutputFiles(eventTargets: readonly string[], cwd: string): string[] {
  const files = new Set<string>();
  const descriptors = [1, 2];
  for (const target of eventTargets) {
    const inherited = INHERITED.exec(target);
    if (inherited) {
      descriptors.push(Number(inherited[1]));
      continue;
    }
    const path = resolve(cwd, target);
    files.add(path);
    // The watcher names files by the path it walked, which holds no symlink the cwd's does not.
    try {
      files.add(realpathSync(path));
    } catch {
      // not there (yet): the resolved path alone
    }
  }
  for (const fd of descriptors) {
    const file = fileOf(fd);
    if (file) files.add(file);
  }
  return [...files];
}

/** The path of the regular file open on `fd`, if it is one and Linux's /proc can tell. */
function fileOf(fd: number): string | undefined {
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    const path = readlinkSync(`/proc/self/fd/${fd}`);
    return isAbsolute(path) && !path.endsWith(' (deleted)') ? path : undefined;
  } catch {
    return undefined; // closed, or no /proc
  }
}
