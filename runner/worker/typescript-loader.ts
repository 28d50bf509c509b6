/**
 * Workers of a TypeScript app load `.ts` files the bundle does not hold: those the app imports
 * or requires by a path computed at run time (@fastify/autoload's plugin folders, an ORM's
 * entity globs, a route folder), which no bundler can see. tsx's loaders — Node's module hooks
 * for ES modules, the require hook for CommonJS — take those, with source maps, as under
 * `tsx app.ts`. The bundle itself is plain JavaScript and goes through them untouched.
 */
import { createRequire } from 'node:module';

export async function registerTypeScript(): Promise<void> {
  // tsx registers its loader by file URL, so it is loaded from node_modules, never bundled.
  const require = createRequire(__filename);
  (require('tsx/cjs/api') as { register: () => unknown }).register();
  const esm = (await import('tsx/esm/api')) as { register: () => unknown };
  esm.register();
}
