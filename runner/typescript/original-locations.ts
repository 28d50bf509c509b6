/**
 * Bundling moves a module's code into one file elsewhere, so everything a module reads about
 * its own location would point there. Each module is given back its own: `__filename`,
 * `__dirname` (prepended on line 1, so that no line moves), and `import.meta.url`,
 * `.filename`, `.dirname` and `.resolve` rewritten in place. An app that reads a file beside
 * its source, or resolves a path relative to itself, finds it as under node or tsx.
 */
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';

/** `source` (of the module at `path`) with its own location put back, for a bundle of `format`. */
export function withOriginalLocation(source: string, path: string, format: 'esm' | 'cjs'): string {
  const url = JSON.stringify(pathToFileURL(path).href);
  const prelude = `const __filename = ${JSON.stringify(path)}, __dirname = ${JSON.stringify(dirname(path))};`;
  // A relative or absolute specifier resolves against the module's own URL; a package is
  // resolved as the bundle's own import.meta.resolve (or require.resolve) does, from the project.
  const bare =
    format === 'esm'
      ? 'import.meta.resolve(s)'
      : `require("node:url").pathToFileURL(require.resolve(s)).href`;
  const resolve = `((s) => /^(\\.{1,2})?\\//.test(s) ? new URL(s, ${url}).href : ${bare})`;
  const replacements: Record<string, string> = {
    url,
    filename: JSON.stringify(path),
    dirname: JSON.stringify(dirname(path)),
    resolve,
  };
  return (
    prelude +
    source.replace(
      /\bimport\.meta\.(url|filename|dirname|resolve)\b/g,
      (_, name: string) => replacements[name]!,
    )
  );
}
