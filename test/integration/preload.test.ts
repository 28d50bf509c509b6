/**
 * Warm standbys: a standby loads the third-party modules the serving generation loaded before
 * it is needed, and a module that changed is never served from a preload. The projects are
 * made here, with tiny packages written into their node_modules the way npm leaves them (every
 * file dated 1985, so only the inode and ctime tell two versions apart).
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { get } from '../support/http';
import { startArbiter, type ArbiterRun } from '../support/arbiter-run';
import { cycle, next, project, start, type Project } from '../support/watched-project';

/** npm's fixed mtime for what it unpacks. */
const NPM_TIME = new Date('1985-10-26T08:15:00Z');

/** Writes package `name` into `dir`/node_modules as npm would: `files` relative to the package. */
function installPackage(p: Project, name: string, files: Record<string, string>, dir = ''): void {
  const root = join(p.dir, dir, 'node_modules', name);
  rmSync(root, { recursive: true, force: true });
  for (const [rel, text] of Object.entries(files)) {
    const file = join(root, rel);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
    utimesSync(file, NPM_TIME, NPM_TIME);
  }
}

/** A CommonJS package of three modules whose exports name `version` and count its loads in this process. */
const fakePackage = (version: string) => ({
  'package.json': JSON.stringify({ name: 'fake', version, main: 'index.js' }),
  'index.js': `globalThis.fakeLoads = (globalThis.fakeLoads || 0) + 1;\nmodule.exports = { version: require('./package.json').version, helper: require('./lib/helper') };\n`,
  'lib/helper.js': `module.exports = 'helper';\n`,
});

const esPackage = {
  'package.json': JSON.stringify({ name: 'esfake', version: '1.0.0', type: 'module', exports: './index.js' }),
  'index.js': `globalThis.esLoads = (globalThis.esLoads || 0) + 1;\nexport const es = 'es1';\n`,
};

/** An ES module app that imports both packages and answers with what it got. */
const ESM_APP = `import http from 'node:http';
import fake from 'fake';
import { es } from 'esfake';
http.createServer((q, r) => r.setHeader('x-worker-pid', String(process.pid)).end(\`fake=\${fake.version} es=\${es} loads=\${globalThis.fakeLoads},\${globalThis.esLoads}\`)).listen(process.env.PORT);
`;

function esmProject(): Project {
  const p = project({
    'package.json': JSON.stringify({ name: 'app', type: 'module' }),
    'server.js': ESM_APP,
  });
  installPackage(p, 'fake', fakePackage('1.0.0'));
  installPackage(p, 'esfake', esPackage);
  return p;
}

/** A standby that finished its preload at index `mark` of the events or later. */
const preloaded = (run: ArbiterRun, mark = 0) => next(run, mark, 'standby', (e) => e.phase === 'preloaded');

/** HUP, then the new generation's worker.deps and its workers' pids. */
async function hup(run: ArbiterRun) {
  const mark = run.events.length;
  run.signal('SIGHUP');
  const { completed, pids } = await cycle(run, mark);
  const deps = await next(run, mark, 'worker.deps', (e) => e.generation === completed.generation);
  return { deps, pids };
}

test('the second generation runs in a standby that preloaded the CommonJS modules, the same instances the app imports', async (t) => {
  const { run, port } = await start(t, esmProject());
  const first = await run.waitFor('worker.deps', (e) => e.generation === 1);
  assert.deepEqual(
    [first.warm, first.reason],
    [false, 'its generation is the first: no dependencies learned yet'],
  );
  const standby = await preloaded(run);
  // fake/index.js, its package.json and lib/helper.js (CommonJS). A plain ES module app's own ES
  // modules (esfake) are not recorded: the loader thread that would take shows in a debugger.
  assert.equal(standby.modules, 3, JSON.stringify(standby));

  const { deps, pids } = await hup(run);
  assert.deepEqual([deps.warm, deps.modules, deps.pid], [true, 3, standby.pid]);
  const response = await get(port);
  assert.ok(pids.includes(response.pid!));
  // Loaded once in the standby, and the app's imports found those very instances.
  assert.equal(response.body, 'fake=1.0.0 es=es1 loads=1,1');
});

test('a lockfile change (npm install) starts cold, says why once, and serves the new version', async (t) => {
  const p = esmProject();
  const { run, port } = await start(t, p);
  await preloaded(run);
  const mark = run.events.length;
  installPackage(p, 'fake', fakePackage('1.0.1'));
  p.write(
    'package-lock.json',
    JSON.stringify({ lockfileVersion: 3, packages: { 'node_modules/fake': { version: '1.0.1' } } }),
  );
  const { completed } = await cycle(run, mark);
  const deps = await next(run, mark, 'worker.deps', (e) => e.generation === completed.generation);
  assert.equal(deps.warm, false);
  assert.match(
    deps.reason!,
    /^(package-lock\.json|node_modules\/fake\/\S+) changed since the dependencies were preloaded$/,
  );
  await run.waitForOutput(
    /dependencies: \S+ changed since the dependencies were preloaded; this generation loads them cold/,
  );
  assert.match((await get(port)).body, /^fake=1\.0\.1 /);
  // The new generation's modules are learned again: the next cycle is warm.
  await preloaded(
    run,
    run.events.findIndex((e) => e === deps),
  );
  const again = await hup(run);
  assert.equal(again.deps.warm, true);
  assert.match((await get(port)).body, /^fake=1\.0\.1 es=es1 loads=1,1$/);
});

test('a package replaced in node_modules with the same sizes and dates (no lockfile) starts cold and serves the new version', async (t) => {
  const p = esmProject();
  const { run, port } = await start(t, p);
  await preloaded(run);
  installPackage(p, 'fake', fakePackage('1.0.1')); // same lengths, npm's dates: only inode and ctime differ
  const { deps } = await hup(run);
  assert.equal(deps.warm, false);
  assert.match(deps.reason!, /^node_modules\/fake\/\S+ changed since the dependencies were preloaded$/);
  assert.match((await get(port)).body, /^fake=1\.0\.1 /);
});

test('a linked workspace package is the project’s own code; an edit in its node_modules serves the new code', async (t) => {
  const p = project({
    'server.js': `const lib = require('lib');\nrequire('node:http').createServer((q, r) => r.end(lib())).listen(process.env.PORT);\n`,
    'packages/lib/package.json': JSON.stringify({ name: 'lib', main: 'index.js' }),
    'packages/lib/index.js': `const dep = require('dep');\nmodule.exports = () => 'lib+' + dep;\n`,
  });
  installPackage(
    p,
    'dep',
    { 'package.json': '{"name":"dep","main":"index.js"}', 'index.js': `module.exports = 'dep1';\n` },
    'packages/lib',
  );
  mkdirSync(join(p.dir, 'node_modules'), { recursive: true });
  symlinkSync('../packages/lib', join(p.dir, 'node_modules', 'lib'));
  const { run, port } = await start(t, p);
  const standby = await preloaded(run);
  assert.equal(standby.modules, 1, 'dep/index.js alone: lib is linked to a folder of the project');
  assert.equal((await get(port)).body, 'lib+dep1');

  installPackage(
    p,
    'dep',
    { 'package.json': '{"name":"dep","main":"index.js"}', 'index.js': `module.exports = 'dep2';\n` },
    'packages/lib',
  );
  const { deps } = await hup(run);
  assert.equal(deps.warm, false);
  assert.match(deps.reason!, /^node_modules\/lib\/node_modules\/dep\/index\.js changed/);
  assert.equal((await get(port)).body, 'lib+dep2');
});

test('a standby whose preload throws is replaced and reported; the module is preloaded no more', async (t) => {
  const p = esmProject();
  // Throws at its second load, which is the first standby's preload.
  installPackage(p, 'flaky', {
    'package.json': '{"name":"flaky","main":"index.js"}',
    'index.js': [
      `const fs = require('node:fs'), count = require('node:path').join(__dirname, 'loads');`,
      `const n = Number(fs.existsSync(count) ? fs.readFileSync(count, 'utf8') : 0);`,
      `fs.writeFileSync(count, String(n + 1));`,
      `if (n === 1) throw new Error('flaky at its second load');`,
      `module.exports = n;`,
    ].join('\n'),
  });
  p.write('server.js', `import 'flaky';\n${ESM_APP}`);
  const { run, port } = await start(t, p);
  const failed = await run.waitFor('standby', (e) => e.phase === 'ended');
  assert.match(
    failed.reason!,
    /^its preload failed \(\S+\/node_modules\/flaky\/index\.js: Error: flaky at its second load\)$/,
  );
  await run.waitForOutput(
    /a standby worker \(pid \d+\) failed to preload \S+flaky\/index\.js: Error: flaky at its second load; replacing it/,
  );
  const replacement = await preloaded(run);
  assert.notEqual(replacement.pid, failed.pid);
  assert.equal(replacement.modules, 3, 'the others (CommonJS), without flaky');

  const { deps } = await hup(run);
  assert.deepEqual([deps.warm, deps.pid], [true, replacement.pid]);
  assert.equal(
    (await get(port)).body,
    'fake=1.0.0 es=es1 loads=1,1',
    'the app loaded flaky itself (its third load)',
  );
});

test('--no-preload: standbys load nothing ahead; workers say why they are cold', async (t) => {
  const { run } = await start(t, esmProject(), { args: ['--no-preload'] });
  await run.standbys(1);
  const { deps } = await hup(run);
  assert.deepEqual([deps.warm, deps.reason], [false, 'preloading is off (--no-preload)']);
  await hup(run);
  assert.deepEqual(
    run.all('standby').filter((e) => e.phase === 'preloaded'),
    [],
  );
});

test('a TypeScript app under tsx: its node_modules are preloaded like any app’s', async (t) => {
  const p = project({
    'server.ts': `import http from 'node:http';\nimport fake from 'fake';\nconst n: number = (globalThis as { fakeLoads?: number }).fakeLoads ?? 0;\nhttp.createServer((q, r) => r.end(\`\${fake.version} \${n}\`)).listen(process.env.PORT);\n`,
  });
  installPackage(p, 'fake', fakePackage('1.0.0'));
  const run = startArbiter(t, ['-b', '127.0.0.1:0', '-w', '1', '--no-reload', 'server.ts'], { cwd: p.dir });
  t.after(() => rmSync(p.dir, { recursive: true, force: true }));
  await run.ready(1);
  const standby = await preloaded(run);
  assert.equal(standby.modules, 3);
  const { deps } = await hup(run);
  assert.deepEqual([deps.warm, deps.modules], [true, 3]);
  assert.equal((await get(await run.port())).body, '1.0.0 1');
});
