/**
 * Before a cycle, the TypeScript files that changed are parsed: one a worker loads only when
 * asked (a route folder autoloaded at run time, a module imported on first use) would otherwise
 * boot fine, the reload would "complete", and every request reaching it would fail. A syntax
 * error fails the reload at its file and line instead, and the old generation serves on. Files
 * the bundle holds are parsed there as well; plain JavaScript is left alone, since a project's
 * `.js` files are as often the browser's (public/, static/) as the server's. Python files are
 * compiled by the new generation's workers themselves, before the app loads (the boot message's
 * `check`).
 */
import { extname, sep } from 'node:path';
import { readRegularFile } from '../../fs/read-regular-file';
import type { ErrorInfo } from '../../protocol/events';

/** Larger than any source file written by hand: not parsed. */
const MAX_SOURCE_BYTES = 5 * 1024 * 1024;

const LOADERS: Record<string, 'ts' | 'tsx'> = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx' };

/** The first syntax error among the changed TypeScript `files`, if any. */
export async function typeScriptSyntaxError(files: readonly string[]): Promise<ErrorInfo | undefined> {
  const sources = files.filter(
    (file) => LOADERS[extname(file)] && !file.endsWith('.d.ts') && !file.includes(`${sep}node_modules${sep}`),
  );
  if (sources.length === 0) return undefined;
  const { transform } = await import('esbuild');
  for (const file of sources) {
    const read = readRegularFile(file, MAX_SOURCE_BYTES);
    if (!read.ok) continue; // deleted, or not a file: the boot tells
    try {
      await transform(read.data.toString('utf8'), { loader: LOADERS[extname(file)]!, logLevel: 'silent' });
    } catch (error) {
      const first = (
        error as {
          errors?: { text: string; location?: { line: number; column: number; lineText: string } }[];
        }
      ).errors?.[0];
      if (!first) continue;
      const { line = 0, column = 0, lineText = '' } = first.location ?? {};
      return {
        message: `SyntaxError: ${first.text}`,
        file,
        line,
        column: column + 1,
        stack: `${file}:${line}:${column + 1}\n${lineText}\n${' '.repeat(column)}^\n\nSyntaxError: ${first.text}`,
      };
    }
  }
  return undefined;
}
