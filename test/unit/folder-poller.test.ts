import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { FolderPoller } from '../../runner/watch/folder-poller';

test('a polled folder: writes, creations and deletions are reported, ignored names never; a new subfolder is handed back', async (t) => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'arbiter-poll-')));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'kept.js'), '1');
  writeFileSync(join(dir, 'edited.js'), '1');
  writeFileSync(join(dir, 'deleted.js'), '1');
  mkdirSync(join(dir, 'old'));
  const seen: string[] = [];
  let wake: (() => void) | undefined;
  /** Waits, woken by each report, until `done()` holds or 5 s have passed. */
  const until = async (done: () => boolean) => {
    const deadline = Date.now() + 5000;
    while (!done() && Date.now() < deadline)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
  };
  const poller = new FolderPoller({
    intervalMs: 20,
    isIgnored: (path) => basename(path).endsWith('.swp'),
    onChange: (path) => (seen.push(`change ${basename(path)}`), wake?.()),
    onFolder: (path) => (seen.push(`folder ${basename(path)}`), wake?.()),
  });
  t.after(() => poller.close());
  poller.add(dir);
  assert.equal(poller.size, 1);

  writeFileSync(join(dir, 'edited.js'), '22');
  writeFileSync(join(dir, 'created.js'), '1');
  writeFileSync(join(dir, '.edited.js.swp'), '1');
  rmSync(join(dir, 'deleted.js'));
  mkdirSync(join(dir, 'new'));
  const expected = ['change created.js', 'change deleted.js', 'change edited.js', 'folder new'];
  await until(() => seen.length >= expected.length);
  assert.deepEqual([...seen].sort(), expected);

  // The folder goes: its files go with it, and it is no longer polled.
  seen.length = 0;
  rmSync(dir, { recursive: true, force: true });
  await until(() => seen.length >= 3);
  assert.equal(poller.size, 0);
  assert.deepEqual([...seen].sort(), ['change created.js', 'change edited.js', 'change kept.js']);
});
