/**
 * Loads `arbiter.config.{js,mjs,cjs,ts,mts,cts}`: settings plus arbiter-side hooks. Every
 * problem (missing file, syntax error, unknown key, bad value) becomes one UsageError that
 * names the file, the key and what was expected.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { locateError } from '../errors/error-location';
import { findSyntaxError } from '../errors/syntax-location';
import { CONFIG_FILE_NAMES } from '../protocol/app-forms';
import { HOOK_NAMES, type ArbiterHooks, type HookName } from './hooks';
import { suggest } from './option-values';
import { UsageError } from '../errors/usage-error';
import { SETTING_DEFINITIONS, SETTING_NAMES, type PartialSettings, type SettingName } from './settings';

export { CONFIG_FILE_NAMES };
const TYPESCRIPT = new Set(['.ts', '.mts', '.cts']);

export type LoadedConfig = { file: string; settings: PartialSettings; hooks: ArbiterHooks };

/**
 * Makes each load a URL of its own, so the ES module loader reads the file again. A counter,
 * not the time: two loads within one millisecond (two HUPs) would otherwise share a URL and the
 * second would get the first one's module from the cache.
 */
let loads = 0;

/** The config file in `directory`, if there is one. */
export function findConfigFile(directory: string): string | undefined {
  return CONFIG_FILE_NAMES.map((name) => join(directory, name)).find((file) => existsSync(file));
}

export async function loadConfig(file: string): Promise<LoadedConfig> {
  const path = resolve(file);
  const name = basename(path);
  if (!existsSync(path)) throw new UsageError(`config file '${file}' does not exist`);
  if (!/\.(c|m)?(j|t)s$/.test(path)) {
    throw new UsageError(`config file '${file}' must be a .js, .mjs, .cjs, .ts, .mts or .cts module`);
  }
  const exported = await settleWithin(importConfig(path), `config file ${name}`);
  const config =
    typeof exported === 'function' ? await callConfig(name, exported as () => unknown) : exported;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new UsageError(`${name} must export an object of settings (export default { workers: 2, ... })`);
  }
  return { file: path, ...checkConfig(name, config as Record<string, unknown>) };
}

/**
 * How long loading the config may take (a top-level await, an exported async function); the
 * timer also keeps the process alive meanwhile, which a promise alone does not.
 */
const CONFIG_TIMEOUT_MS = 10_000;

/** `work`, or one line saying it did not settle in time. */
async function settleWithin<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new UsageError(`${what} did not settle within ${CONFIG_TIMEOUT_MS / 1000} s`)),
      CONFIG_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `export default async () => ({ ... })`: its failure, or a promise that never settles, is one line. */
async function callConfig(name: string, exported: () => unknown): Promise<unknown> {
  try {
    return await settleWithin(Promise.resolve().then(exported), `${name}: its exported function`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${name}: its exported function failed: ${describeThrown(error)}`, { cause: error });
  }
}

/** What a config's own code threw, in one line. */
function describeThrown(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

async function importConfig(path: string): Promise<unknown> {
  const name = basename(path);
  const typescript = TYPESCRIPT.has(extname(path));
  const target = typescript ? await transpile(path) : path;
  // HUP re-reads the config: a CommonJS config must not come from the require cache (the
  // query string below only makes the ES module loader read the file again).
  delete createRequire(path).cache[path];
  // A TypeScript config that throws should be reported at its .ts line: map the stack.
  if (typescript) process.setSourceMapsEnabled(true);
  try {
    const module = (await import(`${pathToFileURL(target).href}?load=${++loads}`)) as { default?: unknown };
    return module.default ?? module;
  } catch (error) {
    const err = error as Error;
    let where = locateError(err.stack);
    if (!where && err.name === 'SyntaxError') where = findSyntaxError(target);
    const at = where && (where.file === target || where.file === path) ? ` at line ${where.line}` : '';
    const kind = err.name === 'SyntaxError' ? 'has a syntax error' : 'failed to load';
    throw new UsageError(`config file ${name} ${kind}${at}: ${err.message}`, { cause: err });
  } finally {
    if (typescript) process.setSourceMapsEnabled(false);
    if (target !== path) await rm(target, { force: true });
  }
}

/** Transpiles a TypeScript config next to itself (so its imports resolve as written). */
async function transpile(path: string): Promise<string> {
  const { build } = await import('esbuild');
  const out = join(dirname(path), `.${basename(path)}.${process.pid}.${++loads}.mjs`);
  try {
    await build({
      entryPoints: [path],
      outfile: out,
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: 'inline',
      logLevel: 'silent',
    });
  } catch (error) {
    const first = (error as { errors?: { text: string; location?: { line: number } }[] }).errors?.[0];
    const at = first?.location ? ` at line ${first.location.line}` : '';
    throw new UsageError(
      `config file ${basename(path)} has a syntax error${at}: ${first?.text ?? String(error)}`,
      {
        cause: error,
      },
    );
  }
  return out;
}

function checkConfig(name: string, config: Record<string, unknown>): Omit<LoadedConfig, 'file'> {
  const settings: Record<string, unknown> = {};
  const hooks: Record<string, unknown> = {};
  const known = [...SETTING_NAMES, ...HOOK_NAMES];
  for (const key of Object.keys(config)) {
    let value: unknown;
    try {
      value = config[key]; // a getter runs the config's own code
    } catch (error) {
      throw new UsageError(`${name}: reading ${key} failed: ${describeThrown(error)}`, { cause: error });
    }
    if ((HOOK_NAMES as readonly string[]).includes(key)) {
      if (typeof value !== 'function') throw new UsageError(`${name}: ${key} must be a function`);
      hooks[key as HookName] = value;
      continue;
    }
    if (!(SETTING_NAMES as readonly string[]).includes(key)) {
      const guess = suggest(key, known);
      throw new UsageError(`${name}: unknown key '${key}'${guess ? ` (did you mean '${guess}'?)` : ''}`);
    }
    try {
      settings[key] = SETTING_DEFINITIONS[key as SettingName].checker.fromValue(value);
    } catch (error) {
      throw new UsageError(`${name}: ${key}: ${(error as Error).message}`);
    }
  }
  return { settings, hooks };
}
