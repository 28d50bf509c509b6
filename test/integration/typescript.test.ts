import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { get } from '../support/http';
import { startArbiter } from '../support/arbiter-run';

/** A TypeScript server in a fresh project: typed code, a local import, a route that throws. */
function tsProject(): { dir: string; app: string } {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-ts-'));
  mkdirSync(join(dir, 'lib'));
  writeFileSync(
    join(dir, 'lib', 'greet.ts'),
    `export function greet(name: string): string {\n  return \`hello \${name} from \${__dirname}\`;\n}\n`,
  );
  const app = join(dir, 'server.ts');
  writeFileSync(
    app,
    [
      `import http from 'node:http';`,
      `import { greet } from './lib/greet';`,
      `interface Options { port: number; version: string }`,
      `const options: Options = { port: Number(process.env.PORT ?? 3000), version: 'v1' };`,
      `http`,
      `  .createServer((request, response) => {`,
      `    if (request.url === '/stack') return response.end(new Error('where').stack);`,
      `    response.end(\`\${options.version} \${greet('ts')} \${__filename}\`);`,
      `  })`,
      `  .listen(options.port);`,
      ``,
    ].join('\n'),
  );
  return { dir, app };
}

test('a TypeScript app runs with no build step: its own __dirname, stacks at the .ts lines, a map that carries the sources as on disk', async (t) => {
  const { dir, app } = tsProject();
  // Outputs an arbiter killed earlier left behind go; those of a live one stay.
  const outputs = join(tmpdir(), `arbiter-${process.getuid!()}`, 'ts');
  mkdirSync(outputs, { recursive: true });
  const dead = join(outputs, 'server.999999999.1.cjs');
  const live = join(outputs, `server.${process.pid}.1.cjs`);
  for (const file of [dead, `${dead}.map`, live]) writeFileSync(file, '');
  t.after(() => rmSync(live, { force: true }));

  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'server.ts'], { cwd: dir });
  await run.ready(1);
  // Made by this test as anyone's mkdir would (0755): the arbiter made both private.
  for (const folder of [outputs, join(outputs, '..')])
    assert.equal(statSync(folder).mode & 0o777, 0o700, folder);
  const port = await run.port();
  assert.equal((await get(port)).body, `v1 hello ts from ${join(dir, 'lib')} ${app}`);
  assert.match((await get(port, '/stack')).body, new RegExp(`${app.replace(/[.]/g, '\\.')}:7:\\d+`));

  assert.deepEqual([existsSync(dead), existsSync(`${dead}.map`), existsSync(live)], [false, false, true]);
  // A debugger binds breakpoints in a file only when the map's copy of it is the same text.
  const map = JSON.parse(readFileSync(join(outputs, `server.${run.pid}.1.cjs.map`), 'utf8')) as {
    sources: string[];
    sourcesContent: string[];
  };
  const sources = map.sources.map((source) => resolve(outputs, source));
  assert.deepEqual(sources.sort(), [app, join(dir, 'lib', 'greet.ts')].sort());
  for (const [i, source] of map.sources.entries())
    assert.equal(map.sourcesContent[i], readFileSync(resolve(outputs, source), 'utf8'));
});

test('editing a TypeScript app reloads it; a syntax error is reported at its .ts line before any spawn', async (t) => {
  const { dir, app } = tsProject();
  const run = startArbiter(t, ['-w', '2', '-b', '127.0.0.1:0', 'server.ts'], { cwd: dir });
  await run.ready(2);
  const port = await run.port();
  const source = readFileSync(app, 'utf8');

  writeFileSync(app, source.replace(`version: 'v1' }`, `version: 'v2' } }`));
  const failed = await run.waitFor('reload', (event) => event.phase === 'failed');
  assert.equal(failed.error?.file, app);
  assert.equal(failed.error?.line, 4);
  assert.equal(typeof failed.error?.column, 'number');
  assert.equal(run.all('worker.spawned').length, 2, 'no worker was spawned for the broken build');
  assert.match((await get(port)).body, /^v1 /, 'the old generation still serves');
  assert.equal(run.all('worker.exited').length, 0);

  writeFileSync(app, source.replace(`version: 'v1'`, `version: 'v2'`));
  const completed = await run.waitFor('reload', (event) => event.phase === 'completed');
  assert.deepEqual(completed.generation, failed.generation + 1);
  await run.ready(2, completed.generation);
  assert.match((await get(port)).body, /^v2 /);
});

test('a crashed worker of the serving generation comes back with its own code, not a later build that failed to boot; outputs go with the arbiter', async (t) => {
  const { dir, app } = tsProject();
  const source = readFileSync(app, 'utf8').replace(
    `if (request.url === '/stack')`,
    `if (request.url === '/crash') process.exit(3);\n    if (request.url === '/stack')`,
  );
  writeFileSync(app, source);
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', 'server.ts'], { cwd: dir });
  const [first] = await run.ready(1);
  await run.waitFor('watcher.ready');
  const port = await run.port();

  // Builds fine, throws at import: generation 2 fails, generation 1 keeps serving.
  writeFileSync(app, `throw new Error('broken at import');\n${source}`);
  const failed = await run.waitFor('reload', (event) => event.phase === 'failed');
  assert.match(failed.error?.message ?? '', /broken at import/);

  await get(port, '/crash').catch(() => undefined); // the worker exits mid-request
  const crashed = await run.waitFor('worker.exited', (e) => e.pid === first!.pid);
  assert.equal(crashed.state, 'crashed');
  const replacement = await run.waitFor('worker.state', (e) => e.state === 'ready' && e.pid !== first!.pid);
  assert.equal(replacement.generation, 1);
  assert.match((await get(port)).body, /^v1 /);

  const outputs = () =>
    readdirSync(join(tmpdir(), `arbiter-${process.getuid!()}`, 'ts')).filter((f) =>
      f.includes(`.${run.pid}.`),
    );
  assert.ok(outputs().length > 0);
  run.signal('SIGTERM');
  assert.equal((await run.waitExit()).code, 0);
  assert.deepEqual(outputs(), []);
});

test('an ES module TypeScript app gets its own import.meta.dirname, .filename and .resolve (it reads a file beside it at import)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-ts-meta-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'lib'));
  writeFileSync(join(dir, 'lib', 'data.txt'), 'beside the source');
  writeFileSync(
    join(dir, 'lib', 'data.mts'),
    [
      `import { readFileSync } from 'node:fs';`,
      `import { join } from 'node:path';`,
      `export const data: string = readFileSync(join(import.meta.dirname, 'data.txt'), 'utf8');`,
      `export const where = { file: import.meta.filename, self: import.meta.resolve('./data.txt'), pkg: import.meta.resolve('node:http') };`,
      ``,
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'server.mts'),
    [
      `import http from 'node:http';`,
      `import { data, where } from './lib/data.mjs';`,
      `http.createServer((_q, s) => s.end(JSON.stringify({ data, ...where, main: import.meta.filename }))).listen(process.env.PORT);`,
      ``,
    ].join('\n'),
  );
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'server.mts'], { cwd: dir });
  await run.ready(1);
  assert.deepEqual(JSON.parse((await get(await run.port())).body), {
    data: 'beside the source',
    file: join(dir, 'lib', 'data.mts'),
    self: pathToFileURL(join(dir, 'lib', 'data.txt')).href,
    pkg: 'node:http',
    main: join(dir, 'server.mts'),
  });
});

test("a project whose node_modules is a link to another folder: stacks and maps name the project's own files", async (t) => {
  const { dir, app } = tsProject();
  const elsewhere = mkdtempSync(join(tmpdir(), 'arbiter-ts-shared-modules-'));
  t.after(() => rmSync(elsewhere, { recursive: true, force: true }));
  mkdirSync(join(elsewhere, 'node_modules'));
  symlinkSync(join(elsewhere, 'node_modules'), join(dir, 'node_modules'));
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'server.ts'], { cwd: dir });
  await run.ready(1);
  const stack = (await get(await run.port(), '/stack')).body;
  assert.match(stack, new RegExp(`${app.replace(/[.]/g, '\\.')}:7:\\d+`));
  assert.doesNotMatch(stack, new RegExp(elsewhere));
});
