import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { firstChange } from '../../runner/arbiter/workers/dependency-stamps';
import { DependencySet, replacesKnown } from '../../runner/arbiter/workers/dependency-set';

void test('which report of loaded modules becomes the set standbys preload', () => {
  const known = { generation: 2, modules: ['a', 'b'] };
  const table: [string, typeof known | undefined, number, string[], boolean][] = [
    ['the first report', undefined, 1, ['a'], true],
    ['an empty report never replaces anything', undefined, 1, [], false],
    ['a newer generation, even with fewer modules', known, 3, ['a'], true],
    ['the same generation, grown (its first requests)', known, 2, ['a', 'b', 'c'], true],
    ['the same generation, no longer', known, 2, ['a', 'c'], false],
    ['an older generation (a draining worker)', known, 1, ['a', 'b', 'c'], false],
  ];
  for (const [name, before, generation, modules, expected] of table)
    assert.equal(replacesKnown(before, generation, modules), expected, name);
});

void test('the first changed stamp: a file rewritten, gone, or a manifest that appeared', () => {
  const before = new Map([
    ['/p/package.json', '1:10:5:5'],
    ['/p/yarn.lock', ''],
    ['/p/node_modules/x/index.js', '2:20:5:5'],
  ]);
  const table: [string, [string, string][], string | undefined][] = [
    ['nothing changed', [...before], undefined],
    [
      'a module rewritten (new ctime)',
      [...before, ['/p/node_modules/x/index.js', '2:20:5:9']],
      '/p/node_modules/x/index.js',
    ],
    ['a module gone', [...before, ['/p/node_modules/x/index.js', '']], '/p/node_modules/x/index.js'],
    ['a lockfile that appeared', [...before, ['/p/yarn.lock', '3:1:1:1']], '/p/yarn.lock'],
    [
      'a requirements file new to the folder',
      [...before, ['/p/requirements-dev.txt', '4:1:1:1']],
      '/p/requirements-dev.txt',
    ],
    [
      'a requirements file removed',
      [...before].filter(([file]) => file !== '/p/package.json'),
      '/p/package.json',
    ],
  ];
  for (const [name, after, expected] of table)
    assert.equal(firstChange(before, new Map(after)), expected, name);
});

void test('a set is forgotten when a module it holds changes on disk, and a failing module is left out', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'arbiter-deps-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const [a, b] = [join(root, 'node_modules/a.js'), join(root, 'node_modules/b.js')];
  writeFileSync(join(root, 'package.json'), '{}');
  const set = new DependencySet(root);
  assert.equal(set.modules, undefined);
  assert.ok(!set.learn(1, []), 'an app with no third-party modules');
  assert.equal(set.coldReason, 'the serving workers loaded no third-party modules');
  assert.ok(set.learn(1, [a, b, 'flask']));
  set.exclude([b]);
  assert.deepEqual(set.modules, [a, 'flask']);
  assert.equal(await set.checkStale(2), undefined, 'excluding a module is not a change');
  assert.ok(!set.learn(2, [b]), 'a failing module stays out of later reports');
  writeFileSync(join(root, 'package.json'), '{"dependencies":{}}');
  assert.equal(await set.checkStale(3), 'package.json changed since the dependencies were preloaded');
  assert.equal(set.modules, undefined);
  assert.match(set.coldReason, /package\.json changed/);
  assert.ok(!set.learn(2, [a]), 'an older generation loaded what was there before the change');
  assert.ok(set.learn(3, [a]), 'the generation that started cold');
});
