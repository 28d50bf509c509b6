/**
 * Which folders the walk enters, so that each folder is watched once. chokidar follows
 * symlinks and knows a link only by the path it was reached by, so a link back up the tree
 * (`d/up -> ..`) or to itself (`d/self -> .`) made its walk endless: `d/up/d/up/…`, never
 * ready, a GB of memory in a minute.
 *
 * - A symlink to a folder of the tree, or to one above it, is not followed: that folder is
 *   watched where it is, under its real path (the path the app loads its files by).
 * - A folder reached twice all the same (two links to one folder outside the tree, a loop
 *   inside that folder) is watched under the first path only: a folder is known by its
 *   device and inode, which the walk's own stat already gives, so this costs no system call.
 */
import { realpathSync, statSync, type Stats } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';

const identityOf = (stats: Stats) => `${stats.dev}:${stats.ino}`;

/** Whether `inner` is `outer` or lies below it. */
function isWithin(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

export class FolderVisits {
  /** The path each folder (by identity) is watched under. */
  private readonly pathOf = new Map<string, string>();

  constructor(private readonly root: string) {}

  /**
   * Whether to leave out a symlink the walk listed (`path`, not followed yet): one that leads
   * to a folder of the tree or above it. Other links, and links to files, are followed.
   */
  skipsLink(path: string): boolean {
    let target: string;
    try {
      target = realpathSync.native(path);
      if (!statSync(target).isDirectory()) return false;
    } catch {
      return true; // dangling, or a loop the kernel gave up on (ELOOP): nothing to watch
    }
    return isWithin(target, this.root) || isWithin(this.root, target);
  }

  /** Whether the folder at `path` (stats through links) is already watched under another path. */
  isRevisit(path: string, stats: Stats): boolean {
    const identity = identityOf(stats);
    const first = this.pathOf.get(identity);
    if (first !== undefined && first !== path && this.stillAt(first, identity)) return true;
    this.pathOf.set(identity, path);
    return false;
  }

  /**
   * Whether `path` still leads to the folder `identity`. It may not: the folder was moved
   * (`mv a b` shows `b` before `a` is gone from chokidar's view), or deleted and its inode reused.
   */
  private stillAt(path: string, identity: string): boolean {
    try {
      return identityOf(statSync(path)) === identity;
    } catch {
      return false;
    }
  }
}
