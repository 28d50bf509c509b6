/**
 * The project watcher alone, on real files: what counts as a change. (The arbiter runs it on
 * a thread; watch.test.ts covers that path end to end.)
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { IgnoreRules } from '../../runner/watch/ignore-rules';
import { ProjectWatcher } from '../../runner/watch/project-watcher';

const DEADLINE_MS = 5000;

/** A watcher over a fresh folder holding `files`; `batches()` waits for the next one. */
async function watching(t: { after: (fn: () => Promise<void> | void) => void }, files: string[]) {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'arbiter-pw-')));
  for (const file of files) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), 'initial\n');
  }
  const queue: string[][] = [];
  let waiting: ((files: string[]) => void) | undefined;
  const watcher = new ProjectWatcher({
    root,
    rules: new IgnoreRules(root),
    alwaysWatched: [],
    onBatch: (batch) => (waiting ? waiting(batch) : queue.push(batch)),
    onError: (error) => assert.fail(error),
  });
  t.after(async () => {
    await watcher.close();
    rmSync(root, { recursive: true, force: true });
  });
  await watcher.ready;
  const nextBatch = () =>
    new Promise<string[]>((resolve, reject) => {
      const queued = queue.shift();
      if (queued) return resolve(queued);
      const timer = setTimeout(() => reject(new Error(`no batch within ${DEADLINE_MS} ms`)), DEADLINE_MS);
      waiting = (batch) => {
        clearTimeout(timer);
        waiting = undefined;
        resolve(batch);
      };
    });
  return { root, watcher, nextBatch, pending: () => queue.length };
}

test('a save through a temp file of any name is one change of the saved file alone', async (t) => {
  const { root, nextBatch } = await watching(t, ['app.js']);
  const temp = join(root, 'app.js.saving-4711'); // a name no ignore rule knows
  writeFileSync(temp, 'saved\n');
  renameSync(temp, join(root, 'app.js'));
  assert.deepEqual(await nextBatch(), [join(root, 'app.js')]);
});

test('many writes to one file in a burst are one change; the same content rewritten later is another', async (t) => {
  const { root, nextBatch, pending } = await watching(t, ['app.js']);
  const app = join(root, 'app.js');
  for (let i = 0; i < 20; i++) writeFileSync(app, `version ${i}\n`);
  assert.deepEqual(await nextBatch(), [app]);
  writeFileSync(app, 'version 19\n'); // a save of unchanged content still means "reload"
  assert.deepEqual(await nextBatch(), [app]);
  assert.equal(pending(), 0);
});

test('deleting a file the watcher found at start is a change', async (t) => {
  const { root, nextBatch } = await watching(t, ['lib/old.js', 'app.js']);
  rmSync(join(root, 'lib', 'old.js'));
  assert.deepEqual(await nextBatch(), [join(root, 'lib', 'old.js')]);
});

test('ignored files never make a batch; a change next to them does, alone', async (t) => {
  const { root, nextBatch } = await watching(t, ['app.js']);
  mkdirSync(join(root, 'node_modules', 'dep'), { recursive: true });
  writeFileSync(join(root, 'node_modules', 'dep', 'index.js'), 'x\n');
  writeFileSync(join(root, '.app.js.swp'), 'x\n');
  writeFileSync(join(root, 'app.js~'), 'x\n');
  writeFileSync(join(root, 'app.js'), 'changed\n');
  assert.deepEqual(await nextBatch(), [join(root, 'app.js')]);
});

test('a save made while the first walk runs, before its folder is watched, still counts', async (t) => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'arbiter-pw-walk-')));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (let d = 0; d < 20; d++) {
    mkdirSync(join(root, `d${d}`));
    for (let f = 0; f < 50; f++) writeFileSync(join(root, `d${d}`, `m${f}.js`), 'initial\n');
  }
  const batches: string[][] = [];
  const watcher = new ProjectWatcher({
    root,
    rules: new IgnoreRules(root),
    alwaysWatched: [],
    onBatch: (batch) => batches.push(batch),
    onError: (error) => assert.fail(error),
  });
  t.after(() => watcher.close());
  // The walk starts on the next turn, so until this test yields, no folder is watched. Holding
  // the loop for a few ms (not waiting: nothing can happen meanwhile) puts the save clearly
  // after the walk's start on the kernel's coarse file clock.
  const until = Date.now() + 15;
  while (Date.now() < until);
  const saved = join(root, 'd19', 'm49.js');
  writeFileSync(saved, 'saved during the walk\n');
  await watcher.ready;
  const deadline = Date.now() + DEADLINE_MS;
  while (batches.length === 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(batches, [[saved]]);
});
