/**
 * What the bundle leaves to Node: installed packages stay external and load from node_modules
 * as usual, but a workspace package (npm, pnpm, yarn workspaces: linked into node_modules from
 * a folder of the user's own) is the user's code, so it is bundled like the app's own sources —
 * its TypeScript compiled, its changes part of the next generation. A package is told by where
 * it really is: in a `node_modules` (installed) or not (linked from the workspace). Imports
 * esbuild cannot resolve stay external too, and fail or not at run time as under node.
 */
import { sep } from 'node:path';
import type { Plugin } from 'esbuild';

/** Marks the resolutions this plugin asks esbuild for itself. */
const OWN = Symbol('arbiter-external-packages');

export const externalPackages = (): Plugin => ({
  name: 'arbiter-external-packages',
  setup(build) {
    // A bare specifier: not relative, not absolute (node: builtins are external on platform node).
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === OWN || args.path.startsWith('node:')) return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: OWN,
      });
      if (
        resolved.errors.length > 0 ||
        resolved.external ||
        resolved.path.split(sep).includes('node_modules')
      )
        return { path: args.path, external: true };
      return { path: resolved.path };
    });
  },
});
