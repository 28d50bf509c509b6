// Bundles the runner (CLI, Node worker runtime, watcher thread) and the extension, each as its own entry.
// Type checking is `tsc --noEmit` (npm run typecheck); esbuild only transpiles and bundles.
// --watch rebuilds on every change (npm run watch); --production minifies without maps;
// --outdir DIR writes there instead of out/ (the packaging script, which leaves out/ alone).
import { cpSync, readFileSync, rmSync, watch as fsWatch } from 'node:fs';
import { context, build } from 'esbuild';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const outdirAt = process.argv.indexOf('--outdir');
const outdir = outdirAt === -1 ? 'out' : process.argv[outdirAt + 1];
if (!outdir || outdir.startsWith('--')) throw new Error('--outdir needs a folder: --outdir DIR');

/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  // esbuild and swc ship a native binary per platform, and tsx registers loaders by file: all
  // three are loaded at run time from node_modules, not bundled.
  external: ['esbuild', '@swc/core', 'tsx'],
  define: { ARBITER_VERSION: JSON.stringify(version) },
};

const entries = [
  {
    ...common,
    entryPoints: ['runner/cli/main.ts'],
    outfile: `${outdir}/runner/cli.js`,
    banner: { js: '#!/usr/bin/env node' },
  },
  { ...common, entryPoints: ['runner/worker/main.ts'], outfile: `${outdir}/runner/worker.js` },
  { ...common, entryPoints: ['runner/watch/watcher-thread.ts'], outfile: `${outdir}/runner/watcher.js` },
  {
    ...common,
    entryPoints: ['extension/extension.ts'],
    outfile: `${outdir}/extension/extension.js`,
    external: ['vscode', 'esbuild', '@swc/core', 'tsx'],
    // Activation time is measured from here: before any module of the bundle is evaluated.
    banner: { js: 'var ARBITER_BUNDLE_START = performance.now(), ARBITER_BUNDLE_END;' },
    footer: { js: 'ARBITER_BUNDLE_END = performance.now();' },
  },
  // The extension tests' entry, which a real VS Code runs in its extension host.
  {
    ...common,
    entryPoints: ['test/vscode/suite/index.ts'],
    outfile: `${outdir}/test/vscode/index.js`,
    external: ['vscode'],
  },
  // What `npm run bench` runs in the extension host to time activation.
  {
    ...common,
    entryPoints: ['test/vscode/activation-entry.ts'],
    outfile: `${outdir}/test/vscode/activation.js`,
    external: ['vscode'],
  },
];

// The Python worker runtime is plain .py files that run on the user's interpreter: copied as is.
function copyPython() {
  rmSync(`${outdir}/runner/python`, { recursive: true, force: true });
  cpSync('runner/python', `${outdir}/runner/python`, {
    recursive: true,
    filter: (source) => !source.includes('__pycache__'),
  });
}
copyPython();

if (watch) {
  for (const options of entries) await (await context(options)).watch();
  // A burst of saves (a checkout) is one copy.
  let pending;
  fsWatch('runner/python', { recursive: true }, (_event, name) => {
    if (String(name).includes('__pycache__')) return;
    clearTimeout(pending);
    pending = setTimeout(copyPython, 50);
  });
  console.log(`watching: every change is rebuilt into ${outdir}/`);
} else {
  await Promise.all(entries.map((options) => build(options)));
}
