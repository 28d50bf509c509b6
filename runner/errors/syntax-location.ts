/**
 * Where a syntax error is, when Node will not say. On Node 20 an ES module's SyntaxError
 * carries its location only in a private field that Node's own crash printer reads; the error
 * a program catches says "Unexpected token ';'" and nothing more. Only then, esbuild parses the
 * module and the files it imports (relative imports, not packages) and names the first error.
 */
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import type { SourceLocation } from './error-location';

type EsbuildFailure = {
  errors?: { text: string; location?: { file: string; line: number; column: number } | null }[];
};

export function findSyntaxError(entry: string): (SourceLocation & { message: string }) | undefined {
  let esbuild: typeof import('esbuild');
  try {
    // Loaded lazily: a worker pays for it only when its app failed to parse.
    esbuild = createRequire(__filename)('esbuild') as typeof import('esbuild');
  } catch {
    return undefined;
  }
  try {
    esbuild.buildSync({
      entryPoints: [entry],
      absWorkingDir: dirname(entry),
      bundle: true,
      write: false,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      logLevel: 'silent',
    });
  } catch (error) {
    const first = (error as EsbuildFailure).errors?.find((e) => e.location);
    if (first?.location) {
      const { file, line, column } = first.location;
      return { file: resolve(dirname(entry), file), line, column: column + 1, message: first.text };
    }
  }
  return undefined;
}
