/**
 * The extension's packages, as `npm run package:all` builds them: one .vsix per platform, each
 * carrying esbuild's binary and swc's binding built for its target (told by their headers, not
 * only by their names) and no other platform's, beside the runner's bundles. The package for
 * this machine is unpacked and run on a decorator-metadata app, so both natives really load.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { before, test } from 'node:test';
import { binaryKind, type BinaryKind } from '../support/binary-format';
import { get } from '../support/http';
import { ROOT, startArbiter } from '../support/arbiter-run';
import { Zip } from '../support/zip';

/** Each target's natives, where the package must have them, and what they must be built for. */
const TARGETS: Record<string, { esbuild: string; swc: string; kind: BinaryKind }> = {
  'linux-x64': {
    esbuild: '@esbuild/linux-x64/bin/esbuild',
    swc: '@swc/core-linux-x64-gnu/swc.linux-x64-gnu.node',
    kind: { format: 'ELF', arch: 'x64' },
  },
  'linux-arm64': {
    esbuild: '@esbuild/linux-arm64/bin/esbuild',
    swc: '@swc/core-linux-arm64-gnu/swc.linux-arm64-gnu.node',
    kind: { format: 'ELF', arch: 'arm64' },
  },
  'darwin-x64': {
    esbuild: '@esbuild/darwin-x64/bin/esbuild',
    swc: '@swc/core-darwin-x64/swc.darwin-x64.node',
    kind: { format: 'Mach-O', arch: 'x64' },
  },
  'darwin-arm64': {
    esbuild: '@esbuild/darwin-arm64/bin/esbuild',
    swc: '@swc/core-darwin-arm64/swc.darwin-arm64.node',
    kind: { format: 'Mach-O', arch: 'arm64' },
  },
  'win32-x64': {
    esbuild: '@esbuild/win32-x64/esbuild.exe',
    swc: '@swc/core-win32-x64-msvc/swc.win32-x64-msvc.node',
    kind: { format: 'PE', arch: 'x64' },
  },
};

/** The runner's and the extension's bundles, and the Python runtime's entry. */
const OUT_FILES = [
  'out/runner/cli.js',
  'out/runner/worker.js',
  'out/runner/watcher.js',
  'out/extension/extension.js',
  'out/runner/python/worker.py',
];

/** npm run package:all with a first-time download of the other platforms' packages, on 2 cores. */
const PACKAGE_DEADLINE_MS = 240_000;

const outDir = mkdtempSync(join(tmpdir(), 'arbiter-packages-'));
const zips = new Map<string, Zip>();

before(async () => {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      ['scripts/package.mjs', '--all', '--out-dir', outDir],
      { cwd: ROOT, timeout: PACKAGE_DEADLINE_MS, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`package.mjs --all: ${stderr || error.message}`, { cause: error }))
          : resolve(),
    );
  });
  console.log(`package:all took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  for (const target of Object.keys(TARGETS))
    zips.set(target, new Zip(join(outDir, `arbiter-${target}.vsix`)));
});

process.on('exit', () => rmSync(outDir, { recursive: true, force: true }));

for (const [target, expected] of Object.entries(TARGETS)) {
  test(`${target}: its own esbuild and swc binaries, no other platform's, and the runner's bundles`, () => {
    const zip = zips.get(target)!;
    const names = zip.names();
    assert.match(zip.read('extension.vsixmanifest').toString(), new RegExp(`TargetPlatform="${target}"`));

    const natives = names.filter((name) => /^extension\/node_modules\/@(esbuild|swc)\/[^/]+\//.test(name));
    const packages = new Set(natives.map((name) => name.split('/').slice(2, 4).join('/')));
    const own = [dirname(expected.esbuild).replace(/\/bin$/, ''), dirname(expected.swc), '@swc/core'];
    assert.deepEqual([...packages].sort(), own.sort(), `native packages in arbiter-${target}.vsix`);

    for (const binary of [expected.esbuild, expected.swc]) {
      const name = `extension/node_modules/${binary}`;
      assert.ok(zip.entries.has(name), `${name} in arbiter-${target}.vsix`);
      assert.deepEqual(binaryKind(zip.head(name, 4096)), expected.kind, name);
    }
    // Nothing else in the package is a native binary (swc, for one, would load a stray
    // swc.<platform>.node beside its JavaScript first).
    const binaries = names.filter((name) => binaryKind(zip.head(name, 4096)).format !== 'unknown');
    assert.deepEqual(
      binaries.sort(),
      [expected.esbuild, expected.swc].map((binary) => `extension/node_modules/${binary}`).sort(),
    );
    // Extracted as it is archived: esbuild's binary must stay executable where modes exist.
    if (!target.startsWith('win32')) {
      const mode = zip.entries.get(`extension/node_modules/${expected.esbuild}`)!.mode;
      assert.ok(mode & 0o100, `esbuild's mode ${mode.toString(8)} is not executable`);
    }
    // esbuild refuses a binary of another version than its JavaScript.
    const version = (path: string) => (JSON.parse(zip.read(path).toString()) as { version: string }).version;
    const esbuildPackage = `extension/node_modules/${expected.esbuild.split('/').slice(0, 2).join('/')}/package.json`;
    assert.equal(version(esbuildPackage), version('extension/node_modules/esbuild/package.json'));

    for (const file of OUT_FILES)
      assert.ok(names.includes(`extension/${file}`), `${file} in arbiter-${target}.vsix`);
    assert.deepEqual(
      names.filter((name) => /\.(map|ts)$/.test(name) || name.startsWith('extension/out/test/')),
      [],
      'no maps, sources or tests',
    );
  });
}

test("this machine's package runs a decorator-metadata TypeScript app with its own esbuild and swc", async (t) => {
  const here = `${process.platform}-${process.arch}`;
  if (!(here in TARGETS)) return t.skip(`${here} is not a target`);
  const zip = zips.get(here)!;
  const installed = mkdtempSync(join(tmpdir(), 'arbiter-vsix-'));
  t.after(() => rmSync(installed, { recursive: true, force: true }));
  for (const entry of zip.entries.values()) {
    if (!entry.name.startsWith('extension/')) continue;
    const path = join(installed, entry.name.slice('extension/'.length));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, zip.read(entry.name));
    if (entry.mode) chmodSync(path, entry.mode & 0o777);
  }
  const app = mkdtempSync(join(tmpdir(), 'arbiter-vsix-app-'));
  t.after(() => rmSync(app, { recursive: true, force: true }));
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { experimentalDecorators: true, emitDecoratorMetadata: true } }),
  );
  writeFileSync(
    join(app, 'server.ts'),
    [
      `import http from 'node:http';`,
      `const Injectable = (): ClassDecorator => () => {};`,
      `@Injectable()`,
      `class Greeter { greet(): string { return 'hello from the packaged runner'; } }`,
      `http.createServer((q, s) => s.end(new Greeter().greet() + ' ' + Greeter.name)).listen(process.env.PORT);`,
    ].join('\n'),
  );
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'server.ts'], {
    cwd: app,
    cli: join(installed, 'out/runner/cli.js'),
    // Nothing of the repository's own node_modules may stand in for the package's.
    env: { NODE_PATH: '' },
  });
  await run.ready(1);
  assert.equal((await get(await run.port())).body, 'hello from the packaged runner Greeter');
});
