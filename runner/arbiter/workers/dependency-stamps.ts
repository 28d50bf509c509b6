/**
 * Whether the third-party modules a standby would preload are still the ones on disk: a stamp
 * of each file (and of the project's manifests and lockfiles) taken when the serving generation
 * reported them, compared as a cycle takes its workers. node_modules is not watched (it is too
 * big), and `npm install` writes files with the registry's fixed mtime (1985), so a stamp is
 * the inode, size, mtime and ctime: a replaced or rewritten file always gets a new ctime.
 */
import { readdirSync, statSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';

/** The files that say which dependencies a project has, Node's and Python's. */
const MANIFESTS = [
  'package.json',
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lockb',
  'bun.lock',
  'poetry.lock',
  'Pipfile.lock',
  'uv.lock',
  'pyproject.toml',
];
const REQUIREMENTS = /^requirements.*\.txt$/;

/** One file's stamp, '' when it is not there. */
export type Stamps = ReadonlyMap<string, string>;

const stampOfStats = (stats: Stats | undefined) =>
  stats ? `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}` : '';

function stampOf(file: string): string {
  try {
    return stampOfStats(statSync(file, { throwIfNoEntry: false }));
  } catch {
    return '';
  }
}

/** The project's manifest and lockfile paths (those there now; a new one shows as a change to the folder's list). */
function manifestsOf(root: string): string[] {
  let names: string[] = [];
  try {
    names = readdirSync(root);
  } catch {
    // the project folder gone for a moment: every manifest reads as missing
  }
  const requirements = names.filter((name) => REQUIREMENTS.test(name));
  return [...MANIFESTS, ...requirements].map((name) => join(root, name));
}

/** Stamps of the project's manifests and of `modules` that are files (Python's are names, not stamped). */
export function takeStamps(root: string, modules: readonly string[]): Stamps {
  const stamps = new Map<string, string>();
  for (const file of manifestsOf(root)) stamps.set(file, stampOf(file));
  for (const module of modules) if (isAbsolute(module)) stamps.set(module, stampOf(module));
  return stamps;
}

/**
 * The same stamps, read off the event loop (hundreds of files for a real app: 5–30 ms of
 * synchronous stats on a busy machine), so a cycle can check them while its build runs.
 */
export async function readStamps(files: readonly string[]): Promise<Stamps> {
  const stamps = await Promise.all(files.map((file) => stat(file).then(stampOfStats, () => '')));
  return new Map(files.map((file, index) => [file, stamps[index]!]));
}

/** The first file whose stamp differs between `before` and `after` (a manifest added counts), if any. */
export function firstChange(before: Stamps, after: Stamps): string | undefined {
  for (const [file, stamp] of after)
    if (before.get(file) !== stamp && (stamp || before.has(file))) return file;
  for (const file of before.keys()) if (!after.has(file) && before.get(file)) return file;
  return undefined;
}
