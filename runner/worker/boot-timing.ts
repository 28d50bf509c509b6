/**
 * Times a Node worker's boot for the generation's boot profile: loading the app's own code,
 * loading its third-party modules (node_modules), and the framework's start until it listens.
 *
 * Third-party time is measured at the boundary where the project's code (or the runtime)
 * requires a package: `Module._load` is wrapped for the boot, and a load whose caller is not in
 * node_modules and whose target is a package (a bare specifier, or a path inside node_modules —
 * an ES module importing a CommonJS package reaches the loader so) is timed as a whole,
 * everything it requires in turn included. An ES module app's imports are linked and evaluated
 * as one graph that no hook can time per module (a loader hook sees the source fetched, not the
 * evaluation), so for an ES module app the split is not told: its deps time stays in its code.
 */
import Module, { isBuiltin } from 'node:module';
import { isAbsolute } from 'node:path';
import type { WorkerBootProfile } from '../protocol/control';
import { isEsModule } from '../fs/module-type';

const IN_NODE_MODULES = /[\\/]node_modules[\\/]/;
/** Where a TypeScript app's build lives (typescript-build.ts outputDir): the app's code, not a package's. */
const BUILD_OUTPUT = /[\\/]node_modules[\\/]\.cache[\\/]arbiter[\\/]/;

/** Whether `file` is a third-party module's. */
const thirdParty = (file: string) => IN_NODE_MODULES.test(file) && !BUILD_OUTPUT.test(file);

type Parent = { filename?: string | null } | null | undefined;
type Load = (this: unknown, request: string, parent: Parent, isMain: boolean) => unknown;
const loader = Module as unknown as { _load: Load; _cache: Record<string, unknown> };

/** The runtime's own, loaded before the worker started (tsx's loaders, for a TypeScript app). */
const runtimeModules = new Set(Object.keys(loader._cache));

/** How many modules from node_modules the CommonJS loader holds, of the app's. */
function nodeModulesLoaded(): number {
  let count = 0;
  for (const file of Object.keys(loader._cache)) if (thirdParty(file) && !runtimeModules.has(file)) count++;
  return count;
}

/** Whether `request`, required from outside node_modules, loads a third-party module. */
function isPackage(request: string): boolean {
  if (isBuiltin(request)) return false;
  if (request.startsWith('.') || isAbsolute(request)) return thirdParty(request);
  return true;
}

export class BootTiming {
  private readonly startedAt = performance.now();
  private loadedAt: number | undefined;
  private depsMs = 0;
  private depsMsAtLoad = 0;
  /** Third-party modules already loaded when the boot came: a standby that preloaded them. */
  private readonly preloaded = nodeModulesLoaded();
  private readonly esm: boolean;
  private timing = true;
  private readonly original: Load = loader._load;
  private readonly wrapper: Load;

  constructor(app: string) {
    this.esm = isEsModule(app);
    const original = this.original;
    const timed = () => this.timing;
    const spent = (ms: number) => (this.depsMs += ms);
    let depth = 0;
    loader._load = function (this: unknown, ...args: Parameters<Load>): unknown {
      const [request, parent, isMain] = args;
      const caller = parent?.filename;
      const outside = !caller || !thirdParty(caller);
      if (!timed() || depth > 0 || isMain || !outside || !isPackage(request))
        return Reflect.apply(original, this, args);
      depth++;
      const started = performance.now();
      try {
        return Reflect.apply(original, this, args);
      } finally {
        depth--;
        spent(performance.now() - started);
      }
    };
    this.wrapper = loader._load;
  }

  /** Runs the app's load; it ends when its modules ran (at once for CommonJS, whose listen() may fire first). */
  async loading<T>(load: () => Promise<T>): Promise<T> {
    const pending = load();
    if (!this.esm) this.markLoaded();
    try {
      return await pending;
    } finally {
      this.markLoaded();
    }
  }

  /** The boot's profile, once the worker is ready; from then on nothing is timed. */
  profile(): WorkerBootProfile {
    this.markLoaded();
    this.stop();
    const readyAt = performance.now();
    const loadedAt = this.loadedAt!;
    const cold = nodeModulesLoaded() - this.preloaded;
    const deps = this.esm
      ? { warm: this.preloaded > 0, ...(this.preloaded > 0 ? { modules: this.preloaded } : {}) }
      : this.preloaded > 0
        ? { warm: true, modules: this.preloaded, ...(cold > 0 ? { ms: round(this.depsMs) } : {}) }
        : { warm: false, modules: cold, ms: round(this.depsMs) };
    const splitDeps = !this.esm;
    return {
      bootMs: roundUp(readyAt - this.startedAt),
      deps,
      codeMs: round(loadedAt - this.startedAt - (splitDeps ? this.depsMsAtLoad : 0)),
      listenMs: round(readyAt - loadedAt - (splitDeps ? this.depsMs - this.depsMsAtLoad : 0)),
    };
  }

  private markLoaded(): void {
    if (this.loadedAt !== undefined) return;
    this.loadedAt = performance.now();
    this.depsMsAtLoad = this.depsMs;
  }

  /** The loader as it was, unless something wrapped it since (then ours only passes calls on). */
  private stop(): void {
    this.timing = false;
    if (loader._load === this.wrapper) loader._load = this.original;
  }
}

/** Parts round down and the whole up, so that the parts never add up to more than the whole. */
const round = (ms: number) => Math.floor(ms * 10) / 10;
const roundUp = (ms: number) => Math.ceil(ms * 10) / 10;
