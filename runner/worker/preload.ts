/**
 * A standby loads the third-party modules the serving generation loaded, before it is needed:
 * the app of the generation it joins then finds them in `require.cache` and the ES module
 * loader's map, under the same keys (real paths, their file URLs), as the same instances.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { PreloadMessage, PreloadedMessage } from '../protocol/control';
import { isEsModule } from '../fs/module-type';

const requireFrom = createRequire(__filename);

/** Sets `env` under Node's --env-file rule (the environment the worker was started with wins). */
export function applyEnvFile(env: Readonly<Record<string, string>> | undefined): void {
  for (const [name, value] of Object.entries(env ?? {})) process.env[name] ??= value;
}

export async function preload(message: PreloadMessage): Promise<PreloadedMessage> {
  const started = performance.now();
  applyEnvFile(message.env);
  const failed: { module: string; error: string }[] = [];
  let loaded = 0;
  for (const file of message.modules) {
    try {
      if (isEsModule(file)) await import(pathToFileURL(file).href);
      else requireFrom(file);
      loaded++;
    } catch (error) {
      failed.push({ module: file, error: describe(error) });
    }
  }
  const ms = Math.round((performance.now() - started) * 10) / 10;
  return { type: 'preloaded', loaded, ms, ...(failed.length > 0 ? { failed } : {}) };
}

function describe(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, 500);
}
