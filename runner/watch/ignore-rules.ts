/**
 * What the watcher never looks at, and which changes start a cycle. Ignored: dependency and
 * build folders, virtualenvs, editor temp and swap files, logs and pid files, the arbiter's
 * own output files, everything the project's .gitignore files ignore (the root one and
 * nested ones, each relative to its folder), and `--ignore` globs. When `--watch` globs are
 * given, only files matching one of them start a cycle. (Databases are known by their
 * content, not their name: data-files.ts.)
 */
import { basename, dirname, join, relative, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import picomatch from 'picomatch';
import { readRegularFile } from '../fs/read-regular-file';

/** Folders nobody wants watched: they are not even read. */
export const DEFAULT_IGNORED_DIRS = new Set([
  'node_modules',
  '.git',
  '.hg',
  '.svn',
  'dist',
  'build',
  'out',
  'coverage',
  '.venv',
  'venv',
  '__pycache__',
  '.cache',
  '.next',
  '.nuxt',
  '.turbo',
  '.parcel-cache',
]);

/** Files editors write beside the one being saved (swap, backup, atomic-save temporaries). */
const EDITOR_TEMP = [
  /\.sw[a-p]$/, // vim swap
  /~$/, // vim/emacs backup
  /^\.#/, // emacs lock
  /^#.*#$/, // emacs autosave
  /^4913$/, // vim's probe file
  /\.crswap$/, // Chrome/VS Code web
  /___jb_(tmp|old)___$/, // JetBrains
  /\.tmp$/,
  /^\.DS_Store$/,
  /^\.arbiter\.config\..*\.mjs$/, // the arbiter's own transpiled config
];

/** Bigger than any .gitignore written by hand or by a generator: past it, something is off. */
const MAX_GITIGNORE_BYTES = 1024 * 1024;

/**
 * Files a running app writes, by names nobody gives source: logs (rotated ones too), pid
 * files, nohup's output.
 */
const DATA_NAMES = [/\.log$/, /\.log\.\d+$/, /\.pid$/, /^nohup\.out$/];

export type IgnoreOptions = {
  ignore?: readonly string[];
  watch?: readonly string[];
  /** Absolute paths of the files the arbiter itself writes (arbiter-output-files.ts). */
  ownFiles?: readonly string[];
  /** A .gitignore that is there but cannot be used (a FIFO, too big), once per file. */
  onWarning?: (message: string) => void;
};

export class IgnoreRules {
  /** .gitignore rules by the folder they were found in; `null` when the folder has none. */
  private readonly gitignores = new Map<string, Ignore | null>();
  private readonly userIgnored: (path: string) => boolean;
  private readonly watched: ((path: string) => boolean) | undefined;
  /** The .gitignore files already warned about: a FIFO's every write would say it again. */
  private readonly warned = new Set<string>();
  private readonly ownFiles: ReadonlySet<string>;

  constructor(
    private readonly root: string,
    private readonly options: IgnoreOptions = {},
  ) {
    this.userIgnored = options.ignore?.length ? picomatch([...options.ignore], { dot: true }) : () => false;
    this.watched = options.watch?.length ? picomatch([...options.watch], { dot: true }) : undefined;
    this.ownFiles = new Set(options.ownFiles);
  }

  /** Whether the watcher should skip `path` (absolute); `isDirectory` when known. */
  isIgnored(path: string, isDirectory?: boolean): boolean {
    const rel = relative(this.root, path);
    if (!rel || rel.startsWith('..')) return false;
    const name = basename(path);
    if (isDirectory !== false && DEFAULT_IGNORED_DIRS.has(name)) return true;
    if (isDirectory !== true) {
      if (EDITOR_TEMP.some((pattern) => pattern.test(name))) return true;
      if (DATA_NAMES.some((pattern) => pattern.test(name)) || this.ownFiles.has(path)) return true;
    }
    const posix = rel.split(sep).join('/');
    if (this.userIgnored(posix) || (isDirectory !== false && this.userIgnored(`${posix}/`))) return true;
    return this.gitIgnored(path, isDirectory);
  }

  /** Whether a change to `path` (absolute, not ignored) starts a cycle. */
  triggers(path: string): boolean {
    if (!this.watched) return true;
    return this.watched(relative(this.root, path).split(sep).join('/'));
  }

  /** Forgets what it read of a .gitignore, so an edited one takes effect. */
  invalidate(gitignore: string): void {
    this.gitignores.delete(dirname(gitignore));
  }

  private gitIgnored(path: string, isDirectory?: boolean): boolean {
    // Each .gitignore from the root down to the path's folder judges the path relative to itself.
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      const rules = this.rulesIn(dir);
      if (rules) {
        const rel = relative(dir, path).split(sep).join('/');
        if (rules.ignores(rel) || (isDirectory !== false && rules.ignores(`${rel}/`))) return true;
      }
      if (dir === this.root || dirname(dir) === dir) return false;
    }
  }

  private rulesIn(dir: string): Ignore | null {
    let rules = this.gitignores.get(dir);
    if (rules !== undefined) return rules;
    const file = join(dir, '.gitignore');
    const read = readRegularFile(file, MAX_GITIGNORE_BYTES);
    rules = read.ok ? ignore().add(read.data.toString('utf8')) : null;
    if (!read.ok && !read.missing && !this.warned.has(file)) {
      this.warned.add(file);
      this.options.onWarning?.(`${relative(this.root, file)} ${read.problem}: its rules are not read`);
    }
    this.gitignores.set(dir, rules);
    return rules;
  }
}
