/**
 * Loads the app the way `node app.js` would, so that `require.main === module`, `import.meta`
 * and `process.argv[1]` all look as they do outside the arbiter. Returns what the module
 * exports, so that a module whose default export is a request handler can be served.
 */
import { existsSync, readFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

type ModuleInternals = { _load(request: string, parent: null, isMain: boolean): unknown };

/** Whether Node treats `file` as an ES module: .mjs, or .js under `"type": "module"`. */
export function isEsModule(file: string): boolean {
  const ext = extname(file);
  if (ext === '.mjs') return true;
  if (ext !== '.js') return false;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown }).type === 'module';
      } catch {
        return false;
      }
    }
    if (dirname(dir) === dir) return false;
  }
}

export async function loadApp(file: string): Promise<unknown> {
  if (isEsModule(file)) return import(pathToFileURL(file).href);
  // The CommonJS loader's own entry for the main module: sets require.main and module.id '.'.
  return (Module as unknown as ModuleInternals)._load(file, null, true);
}

/** The request handler a module exports, if it exports one: `export default (req, res) => …`. */
export function exportedHandler(exports: unknown): ((...args: never[]) => unknown) | undefined {
  const candidate = (exports as { default?: unknown } | undefined)?.default ?? exports;
  if (typeof candidate === 'function') return candidate as (...args: never[]) => unknown;
  // A CommonJS module imported as ESM nests its exports one level deeper.
  const nested = (candidate as { default?: unknown } | undefined)?.default;
  return typeof nested === 'function' ? (nested as (...args: never[]) => unknown) : undefined;
}
