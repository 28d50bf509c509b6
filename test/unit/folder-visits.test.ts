import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FolderVisits } from '../../runner/watch/folder-visits';

/** A project (`root`) and a folder beside it (`outside`). */
function tree(t: { after: (fn: () => void) => void }) {
  const top = realpathSync(mkdtempSync(join(tmpdir(), 'arbiter-visits-')));
  t.after(() => rmSync(top, { recursive: true, force: true }));
  const root = join(top, 'project');
  const outside = join(top, 'outside');
  for (const dir of [join(root, 'd'), join(root, 'lib'), outside]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(root, 'lib', 'a.js'), '');
  return { root, outside };
}

test('links into the tree or above it are not followed; links out of it and to files are', (t) => {
  const { root, outside } = tree(t);
  const links: [string, string, boolean][] = [
    ['d/up', '..', true], // the root
    ['d/self', '.', true],
    ['d/lib', '../lib', true], // a folder of the tree: watched where it is
    ['d/top', '../..', true], // above the root
    ['d/ext', outside, false],
    ['d/a.js', '../lib/a.js', false], // a file
    ['d/dangling', 'nothing-there', true],
  ];
  const visits = new FolderVisits(root);
  for (const [link, target, skipped] of links) {
    symlinkSync(target, join(root, link));
    assert.equal(visits.skipsLink(join(root, link)), skipped, link);
  }
});

test('a folder reached by a second path is a revisit, unless the first path no longer leads to it', (t) => {
  const { root, outside } = tree(t);
  symlinkSync(outside, join(root, 'ext'));
  symlinkSync(outside, join(root, 'ext-again'));
  const visits = new FolderVisits(root);
  const at = (path: string) => statSync(path);
  assert.equal(visits.isRevisit(root, at(root)), false);
  assert.equal(visits.isRevisit(root, at(root)), false, 'the same path asked again');
  assert.equal(visits.isRevisit(join(root, 'ext'), at(join(root, 'ext'))), false);
  assert.equal(visits.isRevisit(join(root, 'ext-again'), at(join(root, 'ext-again'))), true);

  // `mv lib moved`: the folder shows up under its new name first.
  const moved = join(root, 'moved');
  const lib = at(join(root, 'lib'));
  assert.equal(visits.isRevisit(join(root, 'lib'), lib), false);
  renameSync(join(root, 'lib'), moved);
  assert.equal(visits.isRevisit(moved, at(moved)), false);
  assert.equal(at(moved).ino, lib.ino);
});
