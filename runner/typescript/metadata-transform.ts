/**
 * TypeScript to JavaScript with decorator metadata, by swc (see tsconfig-semantics.ts), for the
 * bundle to take in: the output keeps its imports (esbuild bundles them) and carries an inline
 * source map that esbuild chains into the bundle's, so stacks and breakpoints stay at the
 * `.ts` lines. esbuild's incremental rebuild still hands every file to its plugins, so each
 * result is kept by file and content hash: a file is transformed again only when what it holds
 * changed (an mtime could stay the same across an edit; a hash cannot).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { UsageError } from '../errors/usage-error';
import type { TypeScriptSemantics } from './tsconfig-semantics';

type Swc = typeof import('@swc/core');

export class MetadataTransform {
  private readonly swc: Swc;
  /** By file: the hash of what it was transformed from, and the result. */
  private readonly cache = new Map<string, { hash: string; code: string }>();
  /** How many transforms ran (cache misses), for the boot profile's build part. */
  transforms = 0;

  /** Throws a UsageError, one line, when swc cannot be loaded on this machine. */
  constructor(private readonly semantics: TypeScriptSemantics) {
    try {
      // swc ships a native binary per platform: loaded at run time, never bundled. Its binding
      // is only looked for at the first transform, so one is made now.
      this.swc = createRequire(__filename)('@swc/core') as Swc;
      this.swc.transformSync('', { swcrc: false, configFile: false });
    } catch (error) {
      throw new UsageError(
        `${semantics.tsconfig ?? 'tsconfig.json'} sets emitDecoratorMetadata, which the arbiter compiles with @swc/core, and it cannot be loaded here (${(error as Error).message.split('\n')[0]}): install the arbiter built for this platform (npm install puts @swc/core's binary for it in place)`,
      );
    }
  }

  /** `source` (the file at `path`, as the bundle will read it) as JavaScript with metadata. */
  transform(source: string, path: string): string {
    const hash = createHash('sha1').update(source).digest('base64');
    const cached = this.cache.get(path);
    if (cached?.hash === hash) return cached.code;
    this.transforms++;
    const { code } = this.swc.transformSync(source, {
      filename: path,
      sourceMaps: 'inline',
      inlineSourcesContent: true,
      swcrc: false,
      configFile: false,
      jsc: {
        parser: { syntax: 'typescript', tsx: /x$/.test(path), decorators: true },
        transform: {
          legacyDecorator: true,
          decoratorMetadata: true,
          useDefineForClassFields: this.semantics.useDefineForClassFields,
        },
        target: 'es2022',
        keepClassNames: true,
      },
    });
    this.cache.set(path, { hash, code });
    return code;
  }
}
