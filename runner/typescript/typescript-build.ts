/**
 * Runs TypeScript entry points with no build step of the user's: before each generation the
 * arbiter bundles the app with esbuild (incrementally: a rebuild reads only what changed), so a
 * syntax error is reported — file, line, column — before a single worker is spawned. Each
 * generation gets an output of its own: a worker that replaces a crashed one of the serving
 * generation loads that generation's code, never a later build that failed to boot.
 *
 * Bundling moves the code, so each module is given back its own location (original-locations.ts):
 * an app that reads files beside its sources still finds them. Installed packages stay external
 * and load from node_modules as usual, workspace packages are bundled (external-packages.ts).
 * Types are not checked (that is tsc's job).
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { BuildContext, Plugin } from 'esbuild';
import type { ErrorInfo } from '../protocol/events';
import { ensurePrivateDir, isOwnFile } from '../fs/private-dir';
import { isEsModule } from '../fs/module-type';
import { externalPackages } from './external-packages';
import { MetadataTransform } from './metadata-transform';
import { withOriginalLocation } from './original-locations';
import { needsMetadata, readSemantics } from './tsconfig-semantics';

export const TYPESCRIPT_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);

export const isTypeScript = (file: string): boolean => TYPESCRIPT_EXTENSIONS.has(extname(file));

/** A build's output; `transformed`: the files swc compiled anew for it (decorator metadata only). */
export type BuildResult =
  { ok: true; outfile: string; transformed?: number } | { ok: false; error: ErrorInfo };

type EsbuildFailure = {
  errors?: {
    text: string;
    location?: { file: string; line: number; column: number; lineText: string } | null;
  }[];
};

export class TypeScriptBuild {
  private context: BuildContext | undefined;
  /** Where esbuild thinks it writes; the real files carry the generation in their names. */
  private readonly outfile: string;
  private readonly format: 'esm' | 'cjs';
  /** The outputs on disk, by generation. */
  private readonly outputs = new Map<number, string>();
  /** Each source as it is on disk, before the plugin prepends its prelude. */
  private readonly originals = new Map<string, string>();
  /** Set when the tsconfig asks for decorator metadata, which esbuild cannot emit. */
  private readonly metadata: MetadataTransform | undefined;

  constructor(
    private readonly entry: string,
    private readonly root: string,
  ) {
    const ext = extname(entry);
    // The same rule Node applies to .js: .mts is ESM, .cts CommonJS, .ts follows package.json.
    this.format = ext === '.mts' || (ext === '.ts' && isEsModule(entry.slice(0, -3) + '.js')) ? 'esm' : 'cjs';
    const semantics = readSemantics(entry);
    this.metadata = needsMetadata(semantics) ? new MetadataTransform(semantics) : undefined;
    const dir = outputDir(root);
    sweepDeadArbiters(dir);
    this.outfile = join(
      dir,
      `${basename(entry, ext)}.${process.pid}${this.format === 'esm' ? '.mjs' : '.cjs'}`,
    );
  }

  /** Builds the app for `generation`; its output stays until `remove(generation)`. */
  async build(generation: number): Promise<BuildResult> {
    let built;
    const transforms = this.metadata?.transforms ?? 0;
    try {
      this.context ??= await this.createContext();
      built = await this.context.rebuild();
    } catch (error) {
      return { ok: false, error: describeFailure(error, this.root) };
    }
    const ext = extname(this.outfile);
    const outfile = `${this.outfile.slice(0, -ext.length)}.${generation}${ext}`;
    const map = `${outfile}.map`;
    for (const output of built.outputFiles ?? []) {
      if (output.path.endsWith('.map')) writeFileSync(map, this.withOriginalSources(output.text));
      else writeFileSync(outfile, pointAtMap(output.text, basename(map)));
    }
    this.outputs.set(generation, outfile);
    if (!this.metadata) return { ok: true, outfile };
    return { ok: true, outfile, transformed: this.metadata.transforms - transforms };
  }

  /**
   * The map's sources as the user wrote them. A debugger (js-debug) binds a breakpoint set in a
   * file on disk only when the map's copy of that file is the same text; with the plugin's
   * prelude in it, it would show a read-only copy instead and the breakpoint would never hit.
   */
  private withOriginalSources(mapText: string): string {
    const map = JSON.parse(mapText) as { sources: string[]; sourcesContent?: (string | null)[] };
    const dir = dirname(this.outfile);
    // Absolute: Node resolves a relative source against where the bundle really is, and with
    // node_modules a link to another folder that is another project's tree.
    map.sources = map.sources.map((source) => resolve(dir, source));
    map.sourcesContent = map.sources.map(
      (source, i) => this.originals.get(source) ?? map.sourcesContent?.[i] ?? null,
    );
    return JSON.stringify(map);
  }

  /** The output a worker of `generation` loads. */
  outputOf(generation: number): string | undefined {
    return this.outputs.get(generation);
  }

  /** The generations whose output is on disk. */
  generations(): number[] {
    return [...this.outputs.keys()];
  }

  remove(generation: number): void {
    const outfile = this.outputs.get(generation);
    if (!outfile) return;
    this.outputs.delete(generation);
    rmSync(outfile, { force: true });
    rmSync(`${outfile}.map`, { force: true });
  }

  async dispose(): Promise<void> {
    await this.context?.dispose();
    for (const generation of this.generations()) this.remove(generation);
  }

  private async createContext(): Promise<BuildContext> {
    const { context } = await import('esbuild');
    return context({
      entryPoints: [this.entry],
      outfile: this.outfile,
      absWorkingDir: this.root,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: this.format,
      // Bundling renames a class whose name another module also declares (`Controller2`), and
      // apps read class names (Nest's logger contexts, tokens by name): esbuild gives each its
      // own back. swc's keepClassNames alone does not, as esbuild renames after it.
      keepNames: true,
      // Stack traces and breakpoints point at the .ts lines.
      sourcemap: 'linked',
      sourcesContent: true,
      logLevel: 'silent',
      // Written by build(), under a name per generation.
      write: false,
      plugins: [externalPackages(), originalLocations(this.originals, this.format, this.metadata)],
    });
  }
}

/** The bundle's last line names its map; the map was renamed with the bundle. */
function pointAtMap(code: string, mapName: string): string {
  return code.replace(/\/\/# sourceMappingURL=\S+\s*$/, `//# sourceMappingURL=${mapName}\n`);
}

/**
 * Beside node_modules, so that the bundle's external imports resolve from the project (and the
 * watcher, which ignores node_modules, never sees it); a project without node_modules has no
 * packages to find, so a folder of this user's own under the temporary directory will do. Never
 * a shared name such as /tmp/arbiter-ts: whoever creates that first decides what runs.
 */
function outputDir(root: string): string {
  const purpose = 'TypeScript outputs';
  if (existsSync(join(root, 'node_modules'))) {
    const cache = join(root, 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    return ensurePrivateDir(join(cache, 'arbiter'), purpose);
  }
  const uid = process.getuid?.() ?? 'user';
  const remedy = 'remove it, or set TMPDIR to a folder only you can write';
  const mine = ensurePrivateDir(join(tmpdir(), `arbiter-${uid}`), purpose, remedy);
  return ensurePrivateDir(join(mine, 'ts'), purpose, remedy);
}

/** `server.<arbiter pid>.<generation>.cjs` and its `.map`. */
const OUTPUT_NAME = /\.(\d+)\.\d+\.[cm]?js(\.map)?$/;

/**
 * Removes the outputs of arbiters that are gone: one that was killed (SIGKILL, a crash) could
 * not remove its own, and the directory would otherwise grow with every such run. Only plain
 * files of this user's, named as outputs are, are deleted; links and anything else stay.
 */
function sweepDeadArbiters(dir: string): void {
  for (const name of readdirSync(dir)) {
    const pid = Number(OUTPUT_NAME.exec(name)?.[1]);
    if (!pid || running(pid)) continue;
    const path = join(dir, name);
    try {
      if (isOwnFile(lstatSync(path))) unlinkSync(path);
    } catch {
      // gone meanwhile
    }
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Gives each bundled module its own location back (prepended on line 1, so no line moves), and
 * keeps each source as read in `originals`.
 */
const originalLocations = (
  originals: Map<string, string>,
  format: 'esm' | 'cjs',
  metadata: MetadataTransform | undefined,
): Plugin => ({
  name: 'arbiter-original-locations',
  setup(build) {
    build.onLoad({ filter: /\.[cm]?[jt]sx?$/, namespace: 'file' }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      originals.set(args.path, source);
      const contents = withOriginalLocation(source, args.path, format);
      if (metadata && TYPESCRIPT_EXTENSIONS.has(extname(args.path).replace(/x$/, '')))
        return { contents: metadata.transform(contents, args.path), loader: 'js' };
      const ext = extname(args.path).slice(1);
      const loader =
        ext.startsWith('m') || ext.startsWith('c')
          ? (ext.slice(1) as 'ts' | 'js')
          : (ext as 'ts' | 'tsx' | 'js' | 'jsx');
      return { contents, loader };
    });
  },
});

function describeFailure(error: unknown, root: string): ErrorInfo {
  const first = (error as EsbuildFailure).errors?.[0];
  if (!first) return { message: error instanceof Error ? error.message : String(error) };
  const location = first.location;
  if (!location) return { message: first.text };
  const file = join(root, location.file);
  return {
    message: `SyntaxError: ${first.text}`,
    file,
    line: location.line,
    column: location.column + 1,
    stack: `${file}:${location.line}:${location.column + 1}\n${location.lineText}\n${' '.repeat(location.column)}^\n\nSyntaxError: ${first.text}`,
  };
}
