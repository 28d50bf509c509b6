// Builds the VS Code extension as one .vsix per platform, as platform-specific extensions are
// published: each carries esbuild's and swc's native binaries for its target and no other's.
//
//   node scripts/package.mjs                  this machine's platform (npm run package)
//   node scripts/package.mjs --all            the five targets below (npm run package:all)
//   node scripts/package.mjs darwin-arm64 …   the targets named
//   --out-dir DIR                             where the .vsix files go (default .cache/)
//
// Each target is staged in a folder of its own (the production build, README, CHANGELOG,
// LICENSE, media, .vscodeignore, and a node_modules holding only what ships), where vsce packs
// it: npm installs only this machine's binaries, so the other platforms' packages come from the
// npm registry (`npm pack`), at the versions and with the integrity package-lock.json records.
import { execFile as execFileCallback } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFile = promisify(execFileCallback);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Each target's native packages: esbuild's binary and swc's binding (glibc on Linux). */
const TARGETS = {
  'linux-x64': ['@esbuild/linux-x64', '@swc/core-linux-x64-gnu'],
  'linux-arm64': ['@esbuild/linux-arm64', '@swc/core-linux-arm64-gnu'],
  'darwin-x64': ['@esbuild/darwin-x64', '@swc/core-darwin-x64'],
  'darwin-arm64': ['@esbuild/darwin-arm64', '@swc/core-darwin-arm64'],
  'win32-x64': ['@esbuild/win32-x64', '@swc/core-win32-x64-msvc'],
};

/** What the bundles load from node_modules at run time (build.mjs's externals besides vscode). */
const SHIPPED = ['esbuild', '@swc/core', 'tsx'];

/** Besides out/ and node_modules/, what the package is made of (.vscodeignore filters it all). */
const FILES = ['README.md', 'CHANGELOG.md', 'LICENSE', 'media', '.vscodeignore'];

const { targets, outDir } = parseArguments(process.argv.slice(2));
const cache = join(ROOT, '.cache');
// Each packager stages in a folder of its own: two at once (a test beside npm run package) never
// pull one another's files away.
const work = join(outDir, `.package-${process.pid}`);
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')).packages;
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

const started = performance.now();
mkdirSync(outDir, { recursive: true });
sweepLeftovers(outDir, '.package-');
mkdirSync(work, { recursive: true });
const [natives] = await Promise.all([
  nativePackages(targets.flatMap((target) => TARGETS[target])),
  execFile(process.execPath, ['scripts/build.mjs', '--production', '--outdir', join(work, 'out')], {
    cwd: ROOT,
  }),
]);
const packaged = await Promise.all(targets.map((target) => packageTarget(target, natives)));
rmSync(work, { recursive: true, force: true });
for (const line of packaged) console.log(line);
console.log(`${packaged.length} package(s) in ${((performance.now() - started) / 1000).toFixed(1)} s`);

function parseArguments(args) {
  let outDir = join(ROOT, '.cache');
  const named = [];
  let all = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--all') all = true;
    else if (arg === '--out-dir') {
      const dir = args[++i];
      if (!dir) usage('--out-dir needs a folder');
      outDir = resolve(dir);
    } else if (arg in TARGETS) named.push(arg);
    else usage(`unknown target or option: ${arg}`);
  }
  if (all) return { targets: Object.keys(TARGETS), outDir };
  if (named.length > 0) return { targets: named, outDir };
  const here = `${process.platform}-${process.arch}`;
  if (!(here in TARGETS)) usage(`this machine (${here}) is not a target; name one`);
  return { targets: [here], outDir };
}

function usage(problem) {
  console.error(`package: ${problem}\ntargets: ${Object.keys(TARGETS).join(', ')} (or --all)`);
  process.exit(2);
}

/**
 * Where each native package's files are: node_modules when npm installed that version here, else
 * the registry's tarball, fetched once into .cache/npm-packages and checked against the lockfile.
 */
async function nativePackages(names) {
  const found = new Map();
  const missing = [];
  for (const name of new Set(names)) {
    const locked = lock[`node_modules/${name}`];
    if (!locked?.version || !locked.integrity)
      throw new Error(`package-lock.json records no version and integrity for ${name}`);
    const installed = join(ROOT, 'node_modules', name);
    const extracted = join(cache, 'npm-packages', `${name.replace('/', '+')}@${locked.version}`);
    if (versionAt(installed) === locked.version) found.set(name, installed);
    else if (existsSync(join(extracted, 'package.json'))) found.set(name, extracted);
    else missing.push({ name, locked, extracted });
  }
  if (missing.length === 0) return found;
  const downloads = join(cache, 'npm-packages', `.download-${process.pid}`);
  sweepLeftovers(dirname(downloads), '.download-');
  mkdirSync(downloads, { recursive: true });
  try {
    const specs = missing.map(({ name, locked }) => `${name}@${locked.version}`);
    const { stdout } = await execFile(
      'npm',
      ['pack', ...specs, '--json', '--silent', '--pack-destination', downloads],
      { cwd: downloads, maxBuffer: 16 * 1024 * 1024, shell: process.platform === 'win32' },
    );
    const packed = JSON.parse(stdout);
    for (const { name, locked, extracted } of missing) {
      const entry = packed.find((item) => item.name === name);
      if (!entry) throw new Error(`npm pack gave nothing for ${name}@${locked.version}`);
      const tarball = join(downloads, entry.filename);
      const [algorithm, expected] = locked.integrity.split('-');
      const actual = createHash(algorithm).update(readFileSync(tarball)).digest('base64');
      if (actual !== expected)
        throw new Error(`${entry.filename}: ${algorithm} ${actual}, package-lock.json says ${expected}`);
      const unpacked = join(downloads, name.replace('/', '+'));
      mkdirSync(unpacked);
      await execFile('tar', ['-xzf', tarball, '-C', unpacked]);
      try {
        renameSync(join(unpacked, 'package'), extracted);
      } catch (error) {
        // Another packager put the same checked package there meanwhile: theirs will do.
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      }
      found.set(name, extracted);
    }
  } finally {
    rmSync(downloads, { recursive: true, force: true });
  }
  return found;
}

/** Removes the `<prefix><pid>` folders that packagers which were killed left behind. */
function sweepLeftovers(dir, prefix) {
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    const pid = name.startsWith(prefix) ? Number(name.slice(prefix.length)) : NaN;
    if (Number.isInteger(pid) && pid > 0 && !running(pid))
      rmSync(join(dir, name), { recursive: true, force: true });
  }
}

function running(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function versionAt(dir) {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/** Stages `target` and packs it; says what was made. */
async function packageTarget(target, natives) {
  const stage = join(work, target);
  mkdirSync(join(stage, 'node_modules'), { recursive: true });
  for (const file of FILES) cpSync(join(ROOT, file), join(stage, file), { recursive: true });
  cpSync(join(work, 'out'), join(stage, 'out'), { recursive: true });
  // The manifest as installed: the dependencies it carries, no scripts to run at packaging.
  const dependencies = Object.fromEntries(SHIPPED.map((name) => [name, manifest.dependencies[name]]));
  const installed = { ...manifest, dependencies };
  delete installed.scripts;
  delete installed.devDependencies;
  writeFileSync(join(stage, 'package.json'), JSON.stringify(installed, null, 2));
  for (const name of dependencyClosure(SHIPPED))
    cpSync(join(ROOT, 'node_modules', name), join(stage, 'node_modules', name), {
      recursive: true,
      dereference: true,
    });
  for (const name of TARGETS[target])
    cpSync(natives.get(name), join(stage, 'node_modules', name), { recursive: true, dereference: true });
  const vsix = join(outDir, `arbiter-${target}.vsix`);
  const vsce = join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const args = ['package', '--target', target, '--no-rewrite-relative-links'];
  // Written beside the stage and renamed into place: whoever opens the .vsix sees a whole one.
  const written = join(work, basename(vsix));
  args.push('--allow-missing-repository', '--out', written);
  try {
    await execFile(process.execPath, [vsce, ...args], { cwd: stage, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    throw new Error(`vsce package --target ${target}: ${error.stderr || error.message}`, { cause: error });
  }
  renameSync(written, vsix);
  return `${vsix.startsWith(ROOT) ? vsix.slice(ROOT.length + 1) : vsix} (${target})`;
}

/** The packages `names` need at run time, by their dependencies (optional ones are the natives). */
function dependencyClosure(names) {
  const seen = new Set();
  const visit = (name) => {
    if (seen.has(name)) return;
    seen.add(name);
    const own = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'));
    for (const dependency of Object.keys(own.dependencies ?? {})) visit(dependency);
  };
  names.forEach(visit);
  return [...seen];
}
