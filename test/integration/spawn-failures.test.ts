/**
 * A worker process that cannot be started — the project folder gone for a moment, no file
 * descriptors left — is a boot failure like any other: reported in one line, the serving
 * generation keeps serving, the next change or respawn tries again, and a stop completes.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { get } from '../support/http';
import { FIXTURES, startArbiter } from '../support/arbiter-run';

for (const standby of [false, true]) {
  test(`the project folder gone during a HUP${standby ? '' : ' (--no-standby)'}: the reload fails in one line, the old generation serves, the next HUP reloads, TERM stops`, async (t) => {
    const parent = mkdtempSync(join(tmpdir(), 'arbiter-moved-'));
    t.after(() => rmSync(parent, { recursive: true, force: true }));
    const project = join(parent, 'proj');
    const moved = join(parent, 'proj.x');
    mkdirSync(project);
    copyFileSync(join(FIXTURES, 'app.js'), join(project, 'app.js'));
    const run = startArbiter(
      t,
      ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', ...(standby ? [] : ['--no-standby']), 'app.js'],
      { cwd: project },
    );
    const old = (await run.ready(2)).map((w) => w.pid);
    const port = await run.port();
    if (standby) await run.standbys(2);

    renameSync(project, moved);
    run.signal('SIGHUP');
    const failed = await run.waitFor('reload', (e) => e.phase === 'failed');
    assert.equal(failed.generation, 2);
    if (!standby)
      assert.match(failed.error!.message, new RegExp(`the working directory ${project} does not exist`));
    assert.ok(old.includes((await get(port)).pid!), 'the old generation serves');

    renameSync(moved, project);
    run.signal('SIGHUP');
    const completed = await run.waitFor('reload', (e) => e.phase === 'completed');
    assert.ok(!old.includes((await get(port)).pid!), 'the new generation serves');
    // Standbys that could not be started for a moment are started again, not given up on.
    if (standby) await run.standbys(2);
    run.signal('SIGTERM');
    assert.equal((await run.waitExit()).code, 0, run.output);
    assert.equal(completed.generation, 3);
    assert.equal(run.invalidLines.length, 0, run.invalidLines.join('\n'));
  });
}

test('out of file descriptors during a TTIN storm: each failure is one line, the server serves on, TERM stops', async (t) => {
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', '--no-standby', 'app.js'], {
    wrapper: ['prlimit', '--nofile=64:64', '--'],
  });
  await run.ready(1);
  const port = await run.port();
  // One at a time: the kernel folds a signal sent again before the first was handled.
  for (let count = 2; count <= 30; count++) {
    run.signal('SIGTTIN');
    await run.waitFor('arbiter.workers', (e) => e.count === count);
  }
  await run.waitForOutput(/cannot start a worker process: too many open files \(EMFILE\)/);
  assert.ok((await get(port)).pid, 'still serving');
  run.signal('SIGTERM');
  assert.equal((await run.waitExit(30_000)).code, 0, run.output);
  assert.doesNotMatch(run.output, /internal error/);
  assert.equal(run.invalidLines.length, 0, run.invalidLines.join('\n'));
});
