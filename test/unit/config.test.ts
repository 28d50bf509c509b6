import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { CONFIG_FILE_NAMES, findConfigFile, loadConfig } from '../../runner/config/load-config';
import { UsageError } from '../../runner/errors/usage-error';

/** A fresh directory holding `files`, removed after the test. */
function project(t: TestContext, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Asserts that loading `file` fails with a UsageError matching every pattern; returns its message. */
async function refuses(file: string, ...patterns: RegExp[]): Promise<string> {
  let message = '';
  await assert.rejects(loadConfig(file), (error: unknown) => {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
    message = error.message;
    return true;
  });
  for (const pattern of patterns) assert.match(message, pattern);
  return message;
}

void test('a CommonJS .js config (module.exports)', async (t) => {
  const dir = project(t, {
    'arbiter.config.js': `module.exports = { workers: 3, bind: ':0', reload: false, gracefulTimeout: 1.5 };\n`,
  });
  const config = await loadConfig(join(dir, 'arbiter.config.js'));
  assert.equal(config.file, join(dir, 'arbiter.config.js'));
  assert.deepEqual(config.settings, { workers: 3, bind: [':0'], reload: false, gracefulTimeout: 1.5 });
  assert.deepEqual(config.hooks, {});
});

void test('a .cjs config', async (t) => {
  const dir = project(t, { 'arbiter.config.cjs': `module.exports = { timeout: 0 };\n` });
  assert.deepEqual((await loadConfig(join(dir, 'arbiter.config.cjs'))).settings, { timeout: 0 });
});

void test('an ES module .mjs config (export default)', async (t) => {
  const dir = project(t, {
    'arbiter.config.mjs': `export default { workers: 2, bind: ['127.0.0.1:0', 'unix:/tmp/x.sock'] };\n`,
  });
  assert.deepEqual((await loadConfig(join(dir, 'arbiter.config.mjs'))).settings, {
    workers: 2,
    bind: ['127.0.0.1:0', 'unix:/tmp/x.sock'],
  });
});

void test('a TypeScript config with type annotations and a relative import, leaving no file behind', async (t) => {
  const dir = project(t, {
    'shared.ts': `export const WORKERS: number = 4;\n`,
    'arbiter.config.ts': [
      `import { WORKERS } from './shared';`,
      `type Config = { workers: number; maxRequests?: number; whenReady?: () => void };`,
      `const config: Config = { workers: WORKERS, maxRequests: 10 as number, whenReady(): void {} };`,
      `export default config;`,
      ``,
    ].join('\n'),
  });
  const before = readdirSync(dir).sort();
  const config = await loadConfig(join(dir, 'arbiter.config.ts'));
  assert.deepEqual(config.settings, { workers: 4, maxRequests: 10 });
  assert.equal(typeof config.hooks.whenReady, 'function');
  assert.deepEqual(readdirSync(dir).sort(), before, 'no transpiled file left next to the config');
});

void test('.mts and .cts configs are transpiled too', async (t) => {
  const dir = project(t, {
    'a.config.mts': `const n: number = 5;\nexport default { workers: n };\n`,
    'b.config.cts': `const n: number = 6;\nmodule.exports = { workers: n };\n`,
  });
  assert.deepEqual((await loadConfig(join(dir, 'a.config.mts'))).settings, { workers: 5 });
  assert.deepEqual((await loadConfig(join(dir, 'b.config.cts'))).settings, { workers: 6 });
  assert.deepEqual(readdirSync(dir).sort(), ['a.config.mts', 'b.config.cts']);
});

void test('a config that exports a function (sync or async) is called', async (t) => {
  const dir = project(t, {
    'sync.config.js': `module.exports = () => ({ workers: 7 });\n`,
    'async.config.mjs': `export default async () => ({ workers: 8, quickTimeout: 0 });\n`,
  });
  assert.deepEqual((await loadConfig(join(dir, 'sync.config.js'))).settings, { workers: 7 });
  assert.deepEqual((await loadConfig(join(dir, 'async.config.mjs'))).settings, {
    workers: 8,
    quickTimeout: 0,
  });
});

void test('hooks are accepted and kept apart from the settings', async (t) => {
  const dir = project(t, {
    'arbiter.config.js': [
      `module.exports = {`,
      `  workers: 1,`,
      `  onStarting() {}, whenReady() {}, onReload() {}, preFork() {}, postFork() {},`,
      `  workerExit() {}, childExit() {}, workersChanged() {}, onExit: async () => {},`,
      `};`,
      ``,
    ].join('\n'),
  });
  const config = await loadConfig(join(dir, 'arbiter.config.js'));
  assert.deepEqual(config.settings, { workers: 1 });
  assert.deepEqual(Object.keys(config.hooks).sort(), [
    'childExit',
    'onExit',
    'onReload',
    'onStarting',
    'postFork',
    'preFork',
    'whenReady',
    'workerExit',
    'workersChanged',
  ]);
  for (const hook of Object.values(config.hooks)) assert.equal(typeof hook, 'function');
});

void test('an unknown key is refused, with the closest known key suggested', async (t) => {
  const dir = project(t, {
    'a.config.js': `module.exports = { wokers: 2 };\n`,
    'b.config.js': `module.exports = { gracefulTimout: 2 };\n`,
    'c.config.js': `module.exports = { onStartng() {} };\n`,
    'd.config.js': `module.exports = { somethingElseEntirely: 1 };\n`,
  });
  await refuses(
    join(dir, 'a.config.js'),
    /^a\.config\.js: unknown key 'wokers' \(did you mean 'workers'\?\)$/,
  );
  await refuses(
    join(dir, 'b.config.js'),
    /unknown key 'gracefulTimout' \(did you mean 'gracefulTimeout'\?\)/,
  );
  await refuses(join(dir, 'c.config.js'), /unknown key 'onStartng' \(did you mean 'onStarting'\?\)/);
  const message = await refuses(join(dir, 'd.config.js'), /unknown key 'somethingElseEntirely'/);
  assert.doesNotMatch(message, /did you mean/);
});

void test('a value of the wrong type is refused with the key, the value and what was expected', async (t) => {
  const table: [source: string, expected: RegExp][] = [
    [`{ workers: 0 }`, /^c\.config\.js: workers: got 0, expected a whole number of 1 or more$/],
    [`{ workers: '2' }`, /workers: got '2' \(a string\), expected a whole number of 1 or more/],
    [`{ workers: 1.5 }`, /workers: got 1\.5, expected a whole number of 1 or more/],
    [`{ timeout: -1 }`, /timeout: got -1, expected a number of seconds, 0 or more/],
    [`{ reload: 'yes' }`, /reload: got 'yes' \(a string\), expected true or false/],
    [`{ bind: [] }`, /bind: got an array, expected a string or a non-empty array of strings/],
    [`{ bind: 8000 }`, /bind: got 8000 \(number\), expected a string or a non-empty array of strings/],
    [`{ app: null }`, /app: got null, expected a non-empty string/],
  ];
  for (const [source, expected] of table) {
    const dir = project(t, { 'c.config.js': `module.exports = ${source};\n` });
    await refuses(join(dir, 'c.config.js'), expected);
  }
});

void test('a hook that is not a function is refused', async (t) => {
  const dir = project(t, { 'h.config.js': `module.exports = { onExit: 'cleanup' };\n` });
  await refuses(join(dir, 'h.config.js'), /^h\.config\.js: onExit must be a function$/);
});

void test('a config that does not export an object is refused', async (t) => {
  const dir = project(t, {
    'array.config.js': `module.exports = [1, 2];\n`,
    'number.config.mjs': `export default 3;\n`,
    'fn.config.js': `module.exports = () => null;\n`,
  });
  for (const name of ['array.config.js', 'number.config.mjs', 'fn.config.js']) {
    await refuses(
      join(dir, name),
      new RegExp(`^${name.replace(/\./g, '\\.')} must export an object of settings`),
    );
  }
});

void test('a syntax error in a .js config names the file and the line', async (t) => {
  const dir = project(t, {
    'bad.config.js': `module.exports = {\n  workers: 2,\n  bind: ':0' ':1',\n};\n`,
  });
  const message = await refuses(join(dir, 'bad.config.js'), /bad\.config\.js/, /syntax error/, /at line 3\b/);
  assert.doesNotMatch(message, /\n/, 'one line');
});

void test('a syntax error in a .ts config names the file and the line, and leaves no file behind', async (t) => {
  const dir = project(t, {
    'bad.config.ts': `const workers: number = 2;\nconst bind: string = ;\nexport default { workers, bind };\n`,
  });
  await refuses(join(dir, 'bad.config.ts'), /bad\.config\.ts/, /syntax error/, /at line 2\b/);
  assert.deepEqual(readdirSync(dir), ['bad.config.ts']);
});

void test('a syntax error in a .mjs config names the file and the line', async (t) => {
  const dir = project(t, {
    'bad.config.mjs': `export default {\n  workers: 2\n  bind: ':0',\n};\n`,
  });
  await refuses(join(dir, 'bad.config.mjs'), /bad\.config\.mjs/, /syntax error/, /at line 3\b/);
});

void test('a config that throws while loading names the file, the line and the error', async (t) => {
  // Separate directories: under tsx (which runs these tests), an import of X.js finds X.ts.
  const js = project(t, { 'throw.config.js': `const a = 1;\nthrow new Error('no database');\n` });
  await refuses(
    join(js, 'throw.config.js'),
    /^config file throw\.config\.js failed to load at line 2: no database$/,
  );
  const ts = project(t, {
    'throw.config.ts': `const a: number = 1;\nif (a) throw new Error('no cache');\nexport default {};\n`,
  });
  await refuses(join(ts, 'throw.config.ts'), /^config file throw\.config\.ts failed to load/, /no cache/);
  assert.deepEqual(readdirSync(ts), ['throw.config.ts'], 'no transpiled file left behind');
});

void test('a TypeScript config that throws reports the line in the .ts source, not in the transpiled file', async (t) => {
  const dir = project(t, {
    'arbiter.config.ts': [
      `type Settings = { workers: number };`,
      `interface Unused { a: string }`,
      ``,
      `const ok: boolean = process.env.NEVER_SET === 'x';`,
      `if (!ok) throw new Error('no cache');`,
      `export default { workers: 1 } satisfies Settings;`,
      ``,
    ].join('\n'),
  });
  const message = await refuses(join(dir, 'arbiter.config.ts'), /failed to load/, /no cache/);
  const line = /at line (\d+)/.exec(message)?.[1];
  assert.ok(line === undefined || line === '5', `${message}: the throw is on line 5`);
});

void test('a missing file or one that is not a module is refused', async (t) => {
  const dir = project(t, { 'arbiter.config.json': `{ "workers": 2 }\n` });
  await refuses(join(dir, 'nope.config.js'), /^config file '.*nope\.config\.js' does not exist$/);
  await refuses(
    join(dir, 'arbiter.config.json'),
    /must be a \.js, \.mjs, \.cjs, \.ts, \.mts or \.cts module/,
  );
});

void test('loading a changed CommonJS config again gives the new values (HUP re-reads the config)', async (t) => {
  for (const name of ['arbiter.config.js', 'arbiter.config.cjs', 'arbiter.config.mjs']) {
    const dir = project(t, { [name]: `module.exports = { workers: 1 };\n` });
    if (name.endsWith('.mjs')) writeFileSync(join(dir, name), `export default { workers: 1 };\n`);
    assert.equal((await loadConfig(join(dir, name))).settings.workers, 1);
    const changed = name.endsWith('.mjs')
      ? `export default { workers: 5 };\n`
      : `module.exports = { workers: 5 };\n`;
    writeFileSync(join(dir, name), changed);
    assert.equal((await loadConfig(join(dir, name))).settings.workers, 5, name);
  }
});

void test('findConfigFile finds arbiter.config.* in the directory, .js first', (t) => {
  assert.deepEqual(CONFIG_FILE_NAMES, [
    'arbiter.config.js',
    'arbiter.config.mjs',
    'arbiter.config.cjs',
    'arbiter.config.ts',
    'arbiter.config.mts',
    'arbiter.config.cts',
  ]);
  const empty = project(t, { 'other.js': '' });
  assert.equal(findConfigFile(empty), undefined);
  const ts = project(t, { 'arbiter.config.ts': 'export default {};\n' });
  assert.equal(findConfigFile(ts), join(ts, 'arbiter.config.ts'));
  const both = project(t, { 'arbiter.config.ts': '', 'arbiter.config.js': '' });
  assert.equal(findConfigFile(both), join(both, 'arbiter.config.js'));
});
