/**
 * Every completed reload says where its boot spent its time (the boot profile, docs/events.md):
 * for a JavaScript app with a package in node_modules, a TypeScript app (which is built), and
 * a Python app. The figures are whatever this machine took: the tests check that each part
 * is there and that they add up, never how fast anything was.
 */
import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { partsOf } from '../../runner/arbiter/generations/boot-profile';
import type { BootProfile } from '../../runner/protocol/events';
import { FIXTURES, startArbiter, type ArbiterRun } from '../support/arbiter-run';
import { get } from '../support/http';

const PYTHON = '/usr/bin/python3';

/** A project folder with `files` (relative path → content), removed after the test. */
function project(t: TestContext, files: Record<string, string>): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'arbiter-profile-')));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** A package in node_modules that requires a module of its own: two third-party modules. */
const PACKAGE = {
  'node_modules/greeting/package.json': '{ "name": "greeting", "main": "index.js" }',
  'node_modules/greeting/index.js': "module.exports = require('./words');\n",
  'node_modules/greeting/words.js': "module.exports = 'hello';\n",
};

/** Starts the arbiter on `app` in `dir` with reloading on; resolves once it serves and watches. */
async function serve(t: TestContext, dir: string, args: readonly string[]): Promise<ArbiterRun> {
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', ...args], { cwd: dir });
  await run.ready(1, 1);
  await run.waitFor('watcher.ready');
  return run;
}

/** Edits `file` by `edit`, and returns the profile of the reload that completes for it. */
async function profileAfterEdit(
  run: ArbiterRun,
  file: string,
  edit: (text: string) => string,
): Promise<BootProfile> {
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
  const completed = await run.waitForNext('reload', (e) => e.phase !== 'triggered');
  assert.equal(completed.phase, 'completed', JSON.stringify(completed.error));
  assert.ok(completed.profile, 'the completed reload carries a profile');
  await run.waitForOutput(
    /reloaded: generation \d+ serves \(was \d+\), \d+ ms; live in \d+ ms: batch \d+ · /,
  );
  return completed.profile;
}

/** What holds for every profile: a batch (a save started it), a process, parts within the whole. */
function assertConsistent(profile: BootProfile): void {
  assert.ok(profile.batchMs !== undefined && profile.batchMs >= 0, 'the batch a save waited for');
  assert.equal(profile.process.warm, true, 'a cycle takes a standby');
  assert.ok(profile.process.ms >= 0);
  assert.ok(profile.codeMs !== undefined && profile.codeMs >= 0);
  assert.ok(profile.listenMs !== undefined && profile.listenMs >= 0);
  assert.ok(partsOf(profile) <= profile.liveMs, `${JSON.stringify(profile)}: the parts within the whole`);
}

/**
 * The reload's first answer (the request the test just made): after it went live, on the same
 * clock as the profile — the time from the change is the profile's whole plus the wait after it.
 */
async function assertFirstAnswer(run: ArbiterRun, profile: BootProfile): Promise<void> {
  const first = await run.waitFor('reload.first-response');
  assert.equal(first.generation, 2);
  assert.equal(first.worker, profile.worker);
  assert.ok(first.afterLiveMs >= 0, JSON.stringify(first));
  assert.ok(
    Math.abs(first.ms - first.afterLiveMs - profile.liveMs) <= 5,
    `${JSON.stringify(first)} vs ${profile.liveMs}`,
  );
  await run.waitForOutput(
    /generation 2 answered first \d+ ms after the change \(worker \d+, \d+ ms after it went live\)/,
  );
}

/** A server that answers with its package's greeting and its version. */
const GREETING_SERVER = [
  `const http = require('node:http');`,
  `const greeting = require('greeting');`,
  `const VERSION = 'v1';`,
  `http.createServer((q, s) => s.end(greeting + ' ' + VERSION)).listen(process.env.PORT);`,
  ``,
].join('\n');

test('a JavaScript app (no preload): its package load is third-party time, cold; no build; its first answer told', async (t) => {
  const dir = project(t, {
    ...PACKAGE,
    'server.js': GREETING_SERVER,
  });
  // Without preloading, so that the package is the boot's to load (preload.test.ts: with it).
  const run = await serve(t, dir, ['--no-preload', 'server.js']);
  const profile = await profileAfterEdit(run, join(dir, 'server.js'), (text) => text.replace('v1', 'v2'));
  assertConsistent(profile);
  assert.equal(profile.buildMs, undefined, 'plain JavaScript is not built');
  assert.equal(profile.deps?.warm, false);
  assert.equal(profile.deps?.modules, 2, 'greeting/index.js and greeting/words.js');
  assert.ok(profile.deps?.ms !== undefined && profile.deps.ms >= 0);
  assert.equal((await get(await run.port())).body, 'hello v2');
  await assertFirstAnswer(run, profile);
});

test('a JavaScript app with preloading (the default): the next generations load their packages warm, counted', async (t) => {
  const dir = project(t, {
    ...PACKAGE,
    'server.js': GREETING_SERVER,
  });
  const run = await serve(t, dir, ['server.js']);
  // The standbys learn the set from the first generation's report: by the second edit at most,
  // the generation comes from a preloaded standby.
  let profile: BootProfile | undefined;
  for (let version = 2; version <= 3 && !profile?.deps?.warm; version++)
    profile = await profileAfterEdit(run, join(dir, 'server.js'), (text) =>
      text.replace(/v\d/, `v${version}`),
    );
  assertConsistent(profile!);
  assert.equal(profile!.deps?.warm, true, JSON.stringify(profile));
  assert.ok((profile!.deps?.modules ?? 0) >= 2, 'greeting/index.js and greeting/words.js, preloaded');
  await run.waitForOutput(/live in \d+ ms: .*deps warm \(\d+ modules\)/);
});

test('a TypeScript app: the build is a part of its own', async (t) => {
  const dir = project(t, {
    ...PACKAGE,
    'lib/version.ts': `export const VERSION: string = 'v1';\n`,
    'server.ts': [
      `import http from 'node:http';`,
      `import { VERSION } from './lib/version';`,
      `const greeting: string = require('greeting');`,
      `http.createServer((q, s) => s.end(greeting + ' ' + VERSION)).listen(Number(process.env.PORT));`,
      ``,
    ].join('\n'),
  });
  const run = await serve(t, dir, ['server.ts']);
  const profile = await profileAfterEdit(run, join(dir, 'lib/version.ts'), (text) =>
    text.replace('v1', 'v2'),
  );
  assertConsistent(profile);
  assert.ok(profile.buildMs !== undefined && profile.buildMs > 0, 'built');
  assert.equal(profile.transformed, undefined, 'no decorator metadata asked for: esbuild alone');
  assert.equal(profile.deps?.modules, 2);
  assert.equal((await get(await run.port())).body, 'hello v2');
});

test(
  'a Python app (no preload): its imports of installed packages are third-party time; its first answer told',
  { skip: !existsSync(PYTHON) },
  async (t) => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'arbiter-profile-py-')));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(join(FIXTURES, 'python-apps', 'hello.py'), join(dir, 'hello.py'));
    // Without preloading, so that Flask is the app's to import (preload.test.ts: with it).
    const run = await serve(t, dir, ['--python', PYTHON, '--no-preload', 'hello:app']);
    const profile = await profileAfterEdit(run, join(dir, 'hello.py'), (text) =>
      text.replace('"v1"', '"v2"'),
    );
    assertConsistent(profile);
    assert.equal(profile.buildMs, undefined);
    // The standby imported gunicorn before its boot came; Flask is imported by the app.
    assert.equal(profile.deps?.warm, true);
    assert.ok((profile.deps?.modules ?? 0) > 0);
    assert.ok(profile.deps?.ms !== undefined && profile.deps.ms > 0, 'flask was imported during the boot');
    assert.match((await get(await run.port())).body, /^v2 /);
    await assertFirstAnswer(run, profile);
  },
);
