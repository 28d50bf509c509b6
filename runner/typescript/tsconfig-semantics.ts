/**
 * What the project's tsconfig asks of the TypeScript transform. esbuild, which bundles every
 * generation, knows legacy decorators but not their metadata: with `emitDecoratorMetadata` set
 * (NestJS, TypeORM, class-validator projects), constructor injection would get `undefined` and
 * the app would fail at its first request. Those projects' TypeScript files are transformed by
 * swc instead, which emits the metadata as tsc does (measured on 91 files of this repository:
 * swc 29–60 ms, TypeScript's own transpileModule 530–1,080 ms plus 140 ms to load it, esbuild
 * 91–155 ms); every other project stays on esbuild alone.
 */
import { dirname } from 'node:path';
import { getTsconfig } from 'get-tsconfig';

export type TypeScriptSemantics = {
  /** The tsconfig that decided, if any. */
  tsconfig?: string;
  experimentalDecorators: boolean;
  emitDecoratorMetadata: boolean;
  /** TypeScript's default follows the target: on for ES2022 and later. */
  useDefineForClassFields: boolean;
};

/** Targets from which class fields have define semantics by default. */
const DEFINE_TARGETS = /^es(2022|2023|2024|next)$/i;

/** The semantics the tsconfig nearest to `entry` (with what it `extends`) asks for. */
export function readSemantics(entry: string): TypeScriptSemantics {
  const found = getTsconfig(dirname(entry));
  const options = found?.config.compilerOptions ?? {};
  return {
    ...(found ? { tsconfig: found.path } : {}),
    experimentalDecorators: options.experimentalDecorators === true,
    emitDecoratorMetadata: options.emitDecoratorMetadata === true,
    useDefineForClassFields:
      options.useDefineForClassFields ?? DEFINE_TARGETS.test(String(options.target ?? 'es2022')),
  };
}

/** Whether esbuild cannot give what the tsconfig asks for, and swc must transform. */
export const needsMetadata = (semantics: TypeScriptSemantics): boolean =>
  semantics.experimentalDecorators && semantics.emitDecoratorMetadata;
