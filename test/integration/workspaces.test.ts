/**
 * An npm workspace, made by npm itself: the app imports a package of the workspace, which npm
 * links into node_modules. Its sources are the user's code: a change to them reloads the app,
 * and a TypeScript one is bundled like the app's own.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { get } from '../support/http';
import { startArbiter } from '../support/arbiter-run';

/** A workspace root with `apps/api` and `packages/greet`, installed by npm (offline: no dependencies). */
function workspace(t: TestContext, app: Record<string, string>, greet: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'arbiter-workspace-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const write = (dir: string, files: Record<string, string>) => {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
  };
  write(root, {
    'package.json': JSON.stringify({ name: 'demo', private: true, workspaces: ['apps/*', 'packages/*'] }),
  });
  write(join(root, 'apps', 'api'), app);
  write(join(root, 'packages', 'greet'), greet);
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--silent'], { cwd: root });
  return root;
}

test('a JavaScript workspace package the app requires: a change to it reloads the app', async (t) => {
  const root = workspace(
    t,
    {
      'package.json': JSON.stringify({ name: 'api', dependencies: { '@demo/greet': '*' } }),
      'server.js': `const { greet } = require('@demo/greet');\nrequire('node:http').createServer((_q, s) => s.end(greet())).listen(process.env.PORT);\n`,
    },
    {
      'package.json': JSON.stringify({ name: '@demo/greet', main: 'index.js' }),
      'index.js': `exports.greet = () => 'hello v1';\n`,
    },
  );
  const api = join(root, 'apps', 'api');
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', 'server.js'], { cwd: api });
  await run.ready(1);
  await run.waitFor('watcher.ready');
  const port = await run.port();
  assert.equal((await get(port)).body, 'hello v1');
  assert.match(run.output, /watching the workspace packages it imports too: \.\.\/\.\.\/packages\/greet/);
  writeFileSync(join(root, 'packages', 'greet', 'index.js'), `exports.greet = () => 'hello v2';\n`);
  const completed = await run.waitFor('reload', (e) => e.phase === 'completed');
  await run.ready(1, completed.generation);
  assert.equal((await get(port)).body, 'hello v2');
});

test('a TypeScript workspace package (its main a .ts file) is bundled like the app: it runs, a syntax error in it is caught before any spawn, a change reloads', async (t) => {
  const root = workspace(
    t,
    {
      'package.json': JSON.stringify({ name: 'api', dependencies: { '@demo/greet': '*' } }),
      'server.ts': `import http from 'node:http';\nimport { greet } from '@demo/greet';\nhttp.createServer((_q, s) => s.end(greet('ts'))).listen(process.env.PORT);\n`,
    },
    {
      'package.json': JSON.stringify({ name: '@demo/greet', main: 'src/index.ts' }),
      'src/index.ts': `export const greet = (who: string): string => \`hello \${who} v1\`;\n`,
    },
  );
  const api = join(root, 'apps', 'api');
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', 'server.ts'], { cwd: api });
  await run.ready(1);
  await run.waitFor('watcher.ready');
  const port = await run.port();
  assert.equal((await get(port)).body, 'hello ts v1');
  const source = join(root, 'packages', 'greet', 'src', 'index.ts');
  const text = readFileSync(source, 'utf8');
  // Bundled, so a syntax error in it is caught at its line before any worker is spawned.
  writeFileSync(source, text.replace('v1`;', 'v1`;;{'));
  const failed = await run.waitFor('reload', (e) => e.phase === 'failed');
  assert.equal(failed.error?.file, source);
  assert.equal(run.all('worker.spawned').length, 1);
  writeFileSync(source, text.replace('v1', 'v2'));
  const completed = await run.waitFor('reload', (e) => e.phase === 'completed');
  await run.ready(1, completed.generation);
  assert.equal((await get(port)).body, 'hello ts v2');
});
