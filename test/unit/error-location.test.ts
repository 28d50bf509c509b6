import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test, type TestContext } from 'node:test';
import { locateError, RUNNER_FOLDERS, userStack } from '../../runner/errors/error-location';

/** A fresh directory holding `files`, removed after the test. */
function project(t: TestContext, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-errloc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** Runs `fn` and returns the stack of what it threw. */
function stackOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof Error);
    return error.stack ?? '';
  }
  assert.fail('expected a throw');
}

async function stackOfAsync(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof Error);
    return error.stack ?? '';
  }
  assert.fail('expected a rejection');
}

const FRAME = /^\s+at /;
/** Node's own CommonJS loader, as an app's `require` would use it. */
const load = createRequire(__filename);

void test('a real SyntaxError from a CommonJS module: the file and line V8 puts on top', (t) => {
  const dir = project(t, { 'bad.js': `const a = 1;\nconst b = 2;\nconst c = {;\n` });
  const stack = stackOf(() => load(join(dir, 'bad.js')));
  assert.match(stack, /SyntaxError/);
  assert.deepEqual(locateError(stack), { file: join(dir, 'bad.js'), line: 3 });
});

void test('an Error thrown from a module: its first user frame, with the column', (t) => {
  const dir = project(t, {
    'lib.js': `exports.connect = function connect() {\n  const url = 'x';\n  throw new Error('no database at ' + url);\n};\n`,
  });
  const lib = load(join(dir, 'lib.js')) as { connect: () => void };
  const stack = stackOf(() => lib.connect());
  assert.deepEqual(locateError(stack), { file: join(dir, 'lib.js'), line: 3, column: 9 });
});

void test('an Error thrown at import: the top-level line of the module', (t) => {
  const dir = project(t, { 'app.js': `'use strict';\nthrow new Error('boom at import');\n` });
  const stack = stackOf(() => load(join(dir, 'app.js')));
  assert.deepEqual(locateError(stack), { file: join(dir, 'app.js'), line: 2, column: 7 });
});

void test('Node internals on top of the stack are skipped to the first user frame', (t) => {
  const dir = project(t, {
    'read.js': `const fs = require('node:fs');\nexports.read = () =>\n  fs.readFileSync('/nonexistent/arbiter/file');\n`,
  });
  const read = load(join(dir, 'read.js')) as { read: () => void };
  const stack = stackOf(() => read.read());
  assert.match(stack.split('\n')[1] ?? '', /\(node:fs:/, 'the top frame is inside node:fs');
  assert.deepEqual(locateError(stack), { file: join(dir, 'read.js'), line: 3, column: 6 });
});

void test('an ES module frame (a file: URL) is reported as a path', async (t) => {
  const dir = project(t, { 'esm.mjs': `export const x = 1;\n\nthrow new Error('esm boom');\n` });
  const stack = await stackOfAsync(() => import(pathToFileURL(join(dir, 'esm.mjs')).href));
  assert.match(stack, /file:\/\//);
  assert.deepEqual(locateError(stack), { file: join(dir, 'esm.mjs'), line: 3, column: 7 });
});

void test('no stack, or only internal frames: no location', () => {
  assert.equal(locateError(undefined), undefined);
  assert.equal(locateError(''), undefined);
  assert.equal(locateError('Error: x\n    at f (node:internal/x:1:2)\n    at g (node:fs:3:4)'), undefined);
  assert.equal(
    locateError('Error: x\n    at load (/opt/arbiter/out/runner/worker.js:10:3)\n    at <anonymous>'),
    undefined,
  );
});

void test('userStack drops the frames of Node and of the worker runtime, keeping the rest', (t) => {
  const dir = project(t, { 'bad.js': `const c = {;\n` });
  const stack = stackOf(() => load(join(dir, 'bad.js')));
  assert.ok(
    stack.split('\n').some((line) => /\(node:internal\//.test(line)),
    'the real stack has node: frames',
  );
  const user = userStack(stack)!;
  const lines = user.split('\n');
  assert.equal(lines[0], `${join(dir, 'bad.js')}:1`, 'the FILE:LINE header stays');
  assert.ok(lines.includes("SyntaxError: Unexpected token ';'"), user);
  for (const line of lines.filter((l) => FRAME.test(l))) {
    assert.doesNotMatch(line, /\((node:|internal\/)|at (node:|internal\/)/, `internal frame kept: ${line}`);
  }
  assert.ok(
    lines.some((line) => FRAME.test(line) && line.includes(__filename)),
    'the caller frame stays',
  );

  const synthetic = [
    'Error: boom',
    '    at userCode (/home/me/app/server.js:3:9)',
    '    at boot (/opt/arbiter/out/runner/worker.js:120:5)',
    '    at loadApp (/src/arbiter/runner/worker/load-app.ts:40:10)',
    '    at Module._compile (node:internal/modules/cjs/loader:1521:14)',
    '    at node:internal/main/run_main_module:28:49',
    '    at async Promise.all (index 0)',
  ].join('\n');
  assert.equal(
    userStack(synthetic),
    [
      'Error: boom',
      '    at userCode (/home/me/app/server.js:3:9)',
      '    at async Promise.all (index 0)',
    ].join('\n'),
  );
  assert.equal(userStack(undefined), undefined);
});

void test('an error whose message ends in ":<digits>" is not read as a FILE:LINE header', async (t) => {
  // A real ECONNREFUSED error: its only frame is inside node:net, so there is no user location.
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const error = await new Promise<Error>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('error', resolve);
    t.after(() => socket.destroy());
  });
  assert.match(error.stack ?? '', new RegExp(`^Error: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\n`));
  assert.equal(locateError(error.stack), undefined);

  // The same message thrown from the user's module must point at the module.
  const dir = project(t, {
    'redis.js': `exports.connect = () => {\n  throw new Error('connect ECONNREFUSED 127.0.0.1:6379');\n};\n`,
  });
  const redis = load(join(dir, 'redis.js')) as { connect: () => void };
  assert.deepEqual(locateError(stackOf(() => redis.connect())), {
    file: join(dir, 'redis.js'),
    line: 2,
    column: 9,
  });
});

void test('an anonymous frame in a directory whose name has " (" keeps the whole path', (t) => {
  const dir = project(t, {
    'proj (copy)/m.js': `exports.run = function () {\n  return [0].map(() => {\n    throw new Error('anon');\n  });\n};\n`,
  });
  const m = load(join(dir, 'proj (copy)', 'm.js')) as { run: () => void };
  const stack = stackOf(() => m.run());
  assert.match(stack.split('\n')[1] ?? '', /^ {4}at \/.*\(copy\)\/m\.js:3:11$/, 'an anonymous frame');
  assert.deepEqual(locateError(stack), { file: join(dir, 'proj (copy)', 'm.js'), line: 3, column: 11 });
});

test("every folder of runner/ is the arbiter's own: its frames are never the app's", () => {
  const folders = readdirSync(join(__dirname, '../../runner'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  assert.deepEqual([...RUNNER_FOLDERS].sort(), folders);
  for (const folder of ['protocol', 'watch', 'log', 'typescript'])
    assert.deepEqual(
      locateError(
        `Error: x\n    at f (/src/arbiter/runner/${folder}/a.ts:1:1)\n    at g (/home/u/app/x.js:3:4)`,
      ),
      { file: '/home/u/app/x.js', line: 3, column: 4 },
      folder,
    );
});
