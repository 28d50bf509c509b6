/**
 * Trees that break naive watchers: symlink loops (a folder linked back to itself or to an
 * ancestor) and FIFOs where the watcher expects files it reads. Real symlinks and FIFOs, the
 * built arbiter.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cycle, onlyThisSaveCycles, project, start } from '../support/watched-project';

/** The resident memory of a process, in MB. */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]) / 1024;
}

test('symlink loops: each folder is watched once by its real path; a link out of the tree still counts', async (t) => {
  const outside = realpathSync(mkdtempSync(join(tmpdir(), 'arbiter-linked-')));
  t.after(() => rmSync(outside, { recursive: true, force: true }));
  writeFileSync(join(outside, 'lib.js'), `module.exports = 'lib v1';\n`);
  const p = project({ 'd/m.js': `module.exports = 'm v1';\n` });
  symlinkSync('..', join(p.dir, 'd', 'up')); // back to the root
  symlinkSync('.', join(p.dir, 'd', 'self')); // to itself
  symlinkSync(outside, join(p.dir, 'ext'));
  symlinkSync(outside, join(p.dir, 'ext-again')); // the same folder twice: watched once

  const { run, generation, watching } = await start(t, p);
  assert.equal(watching.folders, 3, 'the root, d and the linked folder, each once');
  assert.equal(watching.files, 3, 'server.js, d/m.js and the linked lib.js');
  const rss = rssMb(run.pid);
  assert.ok(rss < 400, `the arbiter holds ${Math.round(rss)} MB`);

  let mark = run.events.length;
  writeFileSync(join(outside, 'lib.js'), `module.exports = 'lib v2';\n`);
  const linked = await cycle(run, mark);
  assert.equal(linked.triggered.generation, generation + 1);
  assert.deepEqual(linked.triggered.files, [join(p.dir, 'ext', 'lib.js')]);

  mark = run.events.length;
  p.write('d/m.js', `module.exports = 'm v2';\n`);
  const inLoop = await cycle(run, mark);
  assert.equal(inLoop.triggered.generation, generation + 2);
  assert.deepEqual(inLoop.triggered.files, [join(p.dir, 'd', 'm.js')]);
  await onlyThisSaveCycles(run, p.app, 'v2', generation + 3);
});

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
