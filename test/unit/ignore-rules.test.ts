import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { IgnoreRules } from '../../runner/watch/ignore-rules';

function project(): string {
  const root = mkdtempSync(join(tmpdir(), 'arbiter-ignore-'));
  writeFileSync(join(root, '.gitignore'), 'logs/\n*.csv\n!keep.csv\n');
  mkdirSync(join(root, 'pkg'));
  writeFileSync(join(root, 'pkg', '.gitignore'), 'generated.js\n');
  return root;
}

test('default folders, editor temp files, logs and pid files, and .gitignore rules (nested ones relative to their folder)', () => {
  const root = project();
  const rules = new IgnoreRules(root);
  const table: [string, boolean | undefined, boolean][] = [
    ['node_modules', true, true],
    ['src/node_modules', true, true],
    ['.git', true, true],
    ['dist', true, true],
    ['.venv', true, true],
    ['__pycache__', true, true],
    ['src', true, false],
    ['server.js', false, false],
    ['.server.js.swp', false, true],
    ['server.js~', false, true],
    ['4913', false, true],
    ['logs', true, true],
    ['data.csv', false, true],
    ['keep.csv', false, false],
    ['app.log', false, true],
    ['logs.py', false, false],
    ['app.log.1', false, true],
    ['server.pid', false, true],
    ['nohup.out', false, true],
    ['pkg/generated.js', false, true],
    ['generated.js', false, false],
    ['pkg/other.js', false, false],
  ];
  for (const [path, isDirectory, ignored] of table) {
    assert.equal(rules.isIgnored(join(root, path), isDirectory), ignored, path);
  }
  assert.equal(rules.isIgnored(root, true), false, 'the root itself is watched');
});

test('--ignore globs, and --watch globs deciding what triggers', () => {
  const root = project();
  const rules = new IgnoreRules(root, { ignore: ['data/**', '**/*.csv'], watch: ['src/**'] });
  assert.equal(rules.isIgnored(join(root, 'data', 'x.json'), false), true);
  assert.equal(rules.isIgnored(join(root, 'src', 'a.csv'), false), true);
  assert.equal(rules.isIgnored(join(root, 'src', 'a.js'), false), false);
  assert.equal(rules.triggers(join(root, 'src', 'deep', 'a.js')), true);
  assert.equal(rules.triggers(join(root, 'server.js')), false);
});

test('an edited .gitignore takes effect once invalidated', () => {
  const root = project();
  const rules = new IgnoreRules(root);
  assert.equal(rules.isIgnored(join(root, 'tmp.txt'), false), false);
  writeFileSync(join(root, '.gitignore'), 'tmp.txt\n');
  rules.invalidate(join(root, '.gitignore'));
  assert.equal(rules.isIgnored(join(root, 'tmp.txt'), false), true);
});

test(
  'a .gitignore that is a FIFO is never opened: one warning, and its folder is judged without it',
  { timeout: 5000 },
  () => {
    const root = project();
    rmSync(join(root, 'pkg', '.gitignore'));
    execFileSync('mkfifo', [join(root, 'pkg', '.gitignore')]);
    const warnings: string[] = [];
    const rules = new IgnoreRules(root, { onWarning: (message) => warnings.push(message) });
    assert.equal(rules.isIgnored(join(root, 'pkg', 'generated.js'), false), false);
    assert.equal(
      rules.isIgnored(join(root, 'pkg', 'app.log'), false),
      true,
      'the root .gitignore still applies',
    );
    rules.invalidate(join(root, 'pkg', '.gitignore')); // a write to the FIFO
    assert.equal(rules.isIgnored(join(root, 'pkg', 'other.js'), false), false);
    assert.deepEqual(warnings, ['pkg/.gitignore is not a regular file (a FIFO): its rules are not read']);
  },
);

test("the arbiter's own output files are never changes, wherever they are", () => {
  const root = project();
  const own = [join(root, 'events.ndjson'), join(root, 'pkg', 'server.out')];
  const rules = new IgnoreRules(root, { ownFiles: own });
  for (const file of own) assert.equal(rules.isIgnored(file, false), true, file);
  assert.equal(rules.isIgnored(join(root, 'pkg', 'events.ndjson'), false), false, 'the same name elsewhere');
});
