/**
 * Loads the app the way `node app.js` would, so that `require.main === module`, `import.meta`
 * and `process.argv[1]` all look as they do outside the arbiter. Returns what the module
 * exports, so that a module whose default export is a request handler can be served.
 */
import Module from 'node:module';
import { pathToFileURL } from 'node:url';
import { isEsModule } from '../fs/module-type';

type ModuleInternals = { _load(request: string, parent: null, isMain: boolean): unknown };

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
