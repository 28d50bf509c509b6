/**
 * Workers of a TypeScript app run under tsx's loaders, with the flags `tsx app.ts` gives its
 * own process (`--require …/preflight.cjs --import …/loader.mjs`): `.ts` files the app imports
 * or requires by a path computed at run time — @fastify/autoload's plugin folders, an ORM's
 * entity globs — load, with source maps; `process.execArgv` is what it is under tsx; a
 * `cluster.fork()` child gets them too; and libraries that ask whether TypeScript can be loaded
 * (autoload looks for tsx among the preloaded modules) are told yes. The bundle of the app
 * itself is plain JavaScript and goes through them untouched. A standby has the loaders
 * registered (~100 ms: the ES module hooks start a thread) before its boot message comes.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { isTypeScript } from '../../typescript/typescript-build';

/** Whether the command line names TypeScript: the APP, or a file it is given (`fastify start app.ts`). */
export function runsTypeScript(app: string, args: readonly string[]): boolean {
  return [app, ...args].some((part) => isTypeScript(part) || part.endsWith('.tsx'));
}

/** The Node flags that put tsx's loaders in a process, resolved from the arbiter's own install. */
export function tsxFlags(): string[] {
  // The arbiter's own copy of tsx: node_modules beside the CLI, in the repository or the .vsix.
  const require = createRequire(__filename);
  return [
    '--require',
    require.resolve('tsx/preflight'),
    '--import',
    pathToFileURL(require.resolve('tsx')).href,
  ];
}
