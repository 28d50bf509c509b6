/**
 * Workspace packages (npm, pnpm and yarn workspaces) are the user's code, linked into a
 * `node_modules` that the watcher never reads: `node_modules/@acme/shared -> ../packages/shared`.
 * They are found here by what they are — a link in a `node_modules` of the project or above it
 * (npm hoists them to the workspace root) whose target is in no `node_modules` itself (a pnpm
 * store's links point into `node_modules/.pnpm`, an installed package's into the registry's
 * copy) — and watched as roots of their own.
 */
import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/** The real folders of the workspace packages `cwd` can import that are not inside `cwd` already. */
export function linkedWorkspacePackages(cwd: string): string[] {
  const found = new Set<string>();
  for (let dir = cwd; ; dir = dirname(dir)) {
    for (const link of links(join(dir, 'node_modules'))) {
      let target: string;
      try {
        target = realpathSync(link);
      } catch {
        continue; // a dangling link
      }
      const inside = !relative(cwd, target).startsWith('..');
      if (!inside && !target.split(sep).includes('node_modules')) found.add(target);
    }
    if (dirname(dir) === dir) break;
  }
  return [...found].sort();
}

/** The symbolic links among a node_modules folder's packages (`name` and `@scope/name`). */
function links(modules: string): string[] {
  const result: string[] = [];
  for (const name of entries(modules)) {
    const path = join(modules, name);
    if (name.startsWith('@')) {
      for (const scoped of entries(path)) if (isLink(join(path, scoped))) result.push(join(path, scoped));
    } else if (isLink(path)) result.push(path);
  }
  return result;
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
