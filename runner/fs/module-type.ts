/**
 * Which module system Node gives a file: what decides how an app is loaded (the worker), and
 * what a TypeScript bundle is emitted as (a `.ts` file follows its package.json as a `.js` would).
 */
import { dirname, extname, join } from 'node:path';
import { readRegularFile } from './read-regular-file';

/** A package.json larger than this is not one a person wrote: read as no `type`. */
const MAX_MANIFEST_BYTES = 1024 * 1024;

/** Whether Node treats `file` as an ES module: .mjs, or .js under `"type": "module"`. */
export function isEsModule(file: string): boolean {
  const ext = extname(file);
  if (ext === '.mjs') return true;
  if (ext !== '.js') return false;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = readRegularFile(join(dir, 'package.json'), MAX_MANIFEST_BYTES);
    if (manifest.ok) {
      try {
        return (JSON.parse(manifest.data.toString('utf8')) as { type?: unknown }).type === 'module';
      } catch {
        return false;
      }
    }
    // The nearest package.json decides, as in Node: one that is there but unreadable ends the search.
    if (!manifest.missing || dirname(dir) === dir) return false;
  }
}
