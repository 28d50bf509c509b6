/**
 * Trees that break naive watchers: symlink loops (a folder linked back to itself or to an
 * ancestor) and FIFOs where the watcher expects files it reads. Real symlinks and FIFOs, the
 * built arbiter.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { cycle, onlyThisSaveCycles, project, start } from '../support/watched-project';

test('a FIFO named .gitignore (or anything the watcher reads) is never opened: one warning, saves cycle, SIGTERM stops', async (t) => {
  const p = project();
  execFileSync('mkfifo', [join(p.dir, '.gitignore')]);
  execFileSync('mkfifo', [join(p.dir, 'pipe.db')]); // a name a data check would look into
  p.write('lib/.keep', '');
  execFileSync('mkfifo', [join(p.dir, 'lib', '.gitignore')]);

  const { run, generation } = await start(t, p);
  await run.waitForOutput(/\.gitignore is not a regular file \(a FIFO\): its rules are not read/);
  await onlyThisSaveCycles(run, p.app, 'v2', generation + 1);
  const mark = run.events.length;
  const util = p.write('lib/util.js', 'module.exports = 1;\n'); // beside the other FIFO
  const inLib = await cycle(run, mark);
  assert.equal(inLib.triggered.generation, generation + 2);
  assert.deepEqual(inLib.triggered.files, [util]);

  run.signal('SIGTERM');
  const exit = await run.waitExit(10_000);
  assert.equal(exit.code, 0);
});
