/**
 * create-next-app with the custom server of Next's docs (`next({ dev: true })`). `next dev` keeps
 * a lock and says "Another next dev server is already running" to a second copy: the arbiter
 * tells that from a bug in the code (the first copy booted the same code) and runs the app one
 * worker at a time, reloads replacing it.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startArbiter, waitGone } from '../support/arbiter-run';
import { get, load } from '../support/http';
import { realApp } from '../support/real-apps';

const DEADLINE_MS = 60_000;
const ENV = { NEXT_TELEMETRY_DISABLED: '1' };

for (const workers of ['2', '1']) {
  test(`Next.js custom server with -w ${workers}: it cannot run twice, so it runs alone; an edit goes live with no failed request; TERM exits 0`, async (t) => {
    const dir = realApp('next');
    const run = startArbiter(t, ['-w', workers, '-b', '127.0.0.1:0', 'server.js'], { cwd: dir, env: ENV });
    await run.ready(1, 1, DEADLINE_MS);
    await run.waitFor('watcher.ready', () => true, DEADLINE_MS);
    const port = await run.port();
    const page = await get(port, '/', { timeoutMs: DEADLINE_MS });
    assert.equal(page.status, 200);
    assert.match(page.body, /To get started, edit the/);
    if (workers === '2') {
      await run.waitForOutput(
        /this app cannot run twice at once \("⨯ Another next dev server is already running\."\)/,
      );
      assert.equal(
        (await run.waitFor('arbiter.workers', (e) => e.count === 1)).reason,
        'the app cannot run twice at once',
      );
    }

    const file = join(dir, 'app', 'page.js');
    const saved = (async () => {
      writeFileSync(
        file,
        readFileSync(file, 'utf8').replace('To get started, edit the', 'Edited, and live in'),
      );
      await run.waitFor('reload', (e) => e.phase === 'completed', DEADLINE_MS);
    })();
    // Requests wait in the backlog while the one copy is replaced, then for Next to compile the page.
    const traffic = await load(port, saved, 2, { timeoutMs: DEADLINE_MS });
    await saved;
    assert.equal(traffic.failed, 0, traffic.errors.slice(0, 3).join('\n'));
    assert.match((await get(port, '/', { timeoutMs: DEADLINE_MS })).body, /Edited, and live in/);
    if (workers === '1') {
      // Its first try boots beside the old copy and fails as the lock says; the retry replaces it.
      assert.match(run.output, /this app cannot run twice at once/);
    }
    run.signal('SIGTERM');
    assert.equal((await run.waitExit(DEADLINE_MS)).code, 0, run.output);
    await waitGone(run.workerPids(), 2000);
  });
}
