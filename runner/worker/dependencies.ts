/**
 * The third-party modules a worker loaded, for the arbiter to preload into its standbys: files
 * inside a `node_modules` folder, CommonJS from `require.cache`, ES modules as the loader hook
 * below saw them load, in load order (CommonJS first: on this Node a CommonJS module cannot
 * load an ES module statically, so none of them waits on one). Each is named by the loader's
 * own key (its path in `require.cache`, which in a worker may go through a symlink; the file
 * URL for an ES module), so a preloaded module is the very instance the app later asks for. A
 * linked workspace package (node_modules/x → a folder of the project) is the project's code:
 * its real path is outside node_modules, and it is left out; so are tools' caches in `node_modules/.cache` (the
 * arbiter's own TypeScript builds of the app are there) and the app's entry itself.
 */
import { register } from 'node:module';
import { realpathSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import type { WorkerMessage } from '../protocol/control';

/** At most this many modules, and this many characters of paths, go in one report. */
const MAX_MODULES = 10_000;
const MAX_CHARS = 512 * 1024;
/** The second look, for what the app loads on its first requests or timers. */
const SECOND_LOOK_MS = 2000;

/**
 * Records the ES modules loaded from here on (a `load` hook in Node's hooks thread, which
 * posts each file URL back). Costs the thread's start (~20 ms) and a hop per import, so it is
 * installed only where ES modules are loaded at all: an ES module app, or one under tsx, whose
 * own hooks started that thread already.
 */
function recordEsModules(into: string[]): void {
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (url: string) => {
    if (typeof url === 'string') into.push(url);
  });
  port1.unref();
  const hook = `let port;
export function initialize(data) { port = data.port; }
export async function load(url, context, next) {
  const result = await next(url, context);
  if (result.format === 'module' && url.startsWith('file:') && url.includes('/node_modules/') && !url.includes('?') && !url.includes('#')) port.postMessage(url);
  return result;
}`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`, {
    data: { port: port2 },
    transferList: [port2],
  });
}

export class Dependencies {
  private readonly esModules: string[] = [];
  /** What the runtime itself loaded before the app (tsx's loaders): never the app's to preload. */
  private readonly before = new Set(Object.keys(require.cache));
  /** How many modules the last report named. */
  private sent = 0;
  /** Each key's verdict, so the second look stats only what is new. */
  private readonly verdicts = new Map<string, boolean>();

  constructor(recordEsm: boolean) {
    if (recordEsm) recordEsModules(this.esModules);
  }

  /** The module the boot message named (a TypeScript build's output may live in node_modules/.cache). */
  app: string | undefined;

  /** The third-party modules loaded so far, in load order. */
  list(): string[] {
    const files = [
      ...Object.keys(require.cache).filter((file) => !this.before.has(file)),
      ...this.esModules.map((url) => fileURLToPath(url)),
    ];
    const seen = new Set<string>();
    const modules: string[] = [];
    let chars = 0;
    for (const file of files) {
      if (seen.has(file) || file === this.app || !this.isThirdParty(file)) continue;
      seen.add(file);
      chars += file.length;
      if (modules.length >= MAX_MODULES || chars > MAX_CHARS) break;
      modules.push(file);
    }
    return modules;
  }

  /** Inside node_modules, and really so: its real path too (not a tool's cache there). */
  private isThirdParty(file: string): boolean {
    let verdict = this.verdicts.get(file);
    if (verdict === undefined) {
      const real = isPackageFile(file) ? realPath(file) : undefined;
      verdict = real !== undefined && isPackageFile(real);
      this.verdicts.set(file, verdict);
    }
    return verdict;
  }

  /** Reports the list once the worker is ready, and once more a little later if it grew. */
  reportWhenReady(send: (message: WorkerMessage) => void): void {
    // The first report goes out even when empty: the arbiter then knows there is nothing to preload.
    let first = true;
    const report = () => {
      const modules = this.list();
      if (!first && modules.length <= this.sent) return;
      first = false;
      this.sent = modules.length;
      send({ type: 'dependencies', modules });
    };
    setImmediate(report).unref();
    setTimeout(report, SECOND_LOOK_MS).unref();
  }
}

const isPackageFile = (file: string) =>
  file.includes(`${sep}node_modules${sep}`) && !file.includes(`${sep}node_modules${sep}.cache${sep}`);

function realPath(file: string): string | undefined {
  try {
    return realpathSync(file);
  } catch {
    return undefined;
  }
}
