/**
 * The app a package.json points at: its `start` script's entry when that script runs a file
 * (`node server.js`, `nodemon src/app.ts`, `tsx watch index.ts`…), else `main`. Pure, so the
 * rules are unit-tested.
 */

/** Runners whose first non-flag argument is the file they run. */
const RUNNERS = new Set(['node', 'nodemon', 'tsx', 'ts-node', 'ts-node-dev', 'arbiter', 'bun']);
/** Runner words that come before the file (`tsx watch app.ts`). */
const SUBCOMMANDS = new Set(['watch', 'run']);
const SCRIPT_FILE = /\.(c|m)?(j|t)sx?$/;
/** Flags after which there is no file to run: the code is inline. */
const INLINE_CODE = new Set(['-e', '--eval', '-p', '--print']);
/** Flags whose value is the next word, not the entry. */
const TAKES_VALUE = new Set([
  '-r',
  '--require',
  '--import',
  '--loader',
  '--experimental-loader',
  '--env-file',
  '-C',
  '--conditions',
]);

export function appFromPackageJson(pkg: { main?: unknown; scripts?: unknown }): string | undefined {
  const start = (pkg.scripts as Record<string, unknown> | undefined)?.start;
  if (typeof start === 'string') {
    const entry = entryOfCommand(start);
    if (entry) return entry;
  }
  return typeof pkg.main === 'string' && pkg.main ? pkg.main : undefined;
}

/** `node --inspect server.js --port 3` → `server.js`; the first command of `a && b` only. */
export function entryOfCommand(command: string): string | undefined {
  const words = command
    .split(/&&|\|\||;/)[0]!
    .trim()
    .split(/\s+/);
  let i = words.findIndex((word) => RUNNERS.has(word.split('/').pop()!));
  if (i < 0) return undefined;
  for (i++; i < words.length; i++) {
    const word = words[i]!;
    if (INLINE_CODE.has(word)) return undefined;
    if (TAKES_VALUE.has(word)) i++;
    if (word.startsWith('-') || SUBCOMMANDS.has(word)) continue;
    return /^[\w./@-]+$/.test(word) && (SCRIPT_FILE.test(word) || !word.includes('.')) ? word : undefined;
  }
  return undefined;
}
