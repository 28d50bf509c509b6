/**
 * What every real app must do under the arbiter: start, serve its framework's real path, take
 * an edit live, lose no request across reloads under load, report its framework's shutdown
 * hooks by name, and stop with exit 0 and nothing left behind.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startArbiter, waitGone, type ArbiterRun } from './arbiter-run';
import { get, load } from './http';

export type RealAppCheck = {
  dir: string;
  /** The APP and its arguments, and any options. */
  args: string[];
  workers?: number;
  /** The path a user opens first, and what it answers. */
  path: string;
  answers: RegExp;
  /** A source edit: in `file`, `from` becomes `to`; then `path` answers `answersAfter`. */
  edit: { file: string; from: string; to: string };
  answersAfter: RegExp;
  /** Reloads under load (each a save of the edit, back and forth). */
  reloads?: number;
  /** Worker hooks an old worker must have run, ok: by name, or a pattern of it. */
  hooks?: (string | RegExp)[];
  env?: NodeJS.ProcessEnv;
  /** A boot may be slow (a framework that compiles on start). */
  deadlineMs?: number;
  /** Checks of the running server, after its first answer (what it holds, say). */
  whileServing?: (port: number) => Promise<void>;
  /** Fail on an old-code answer to a request sent after a reload was reported complete. */
  freshAfterReload?: boolean;
  /** Checks of the running server after the reloads, before it is stopped. */
  beforeStop?: (port: number) => Promise<void>;
  /** The reloads must have run in standbys that preloaded the app's third-party modules (preloading is on). */
  preloaded?: boolean;
  /** How the server is stopped at the end (Stop: TERM; a terminal's Ctrl+C: INT). */
  stop?: NodeJS.Signals;
};

export async function checkRealApp(t: TestContext, check: RealAppCheck): Promise<ArbiterRun> {
  const deadline = check.deadlineMs ?? 30_000;
  const workers = check.workers ?? 2;
  const run = startArbiter(t, ['-w', String(workers), '-b', '127.0.0.1:0', ...check.args], {
    cwd: check.dir,
    ...(check.env ? { env: check.env } : {}),
  });
  await run.ready(workers, 1, deadline);
  await run.waitFor('watcher.ready', () => true, deadline);
  const port = await run.port();
  const first = await get(port, check.path);
  assert.equal(first.status, 200, first.body);
  assert.match(first.body, check.answers);
  await check.whileServing?.(port);

  const file = join(check.dir, check.edit.file);
  const original = readFileSync(file, 'utf8');
  assert.ok(original.includes(check.edit.from), `${check.edit.file} has ${check.edit.from}`);
  const edited = original.replace(check.edit.from, check.edit.to);
  let reloads = 0;
  // What each answer should be from the moment a reload is reported complete until the next save.
  let expected: { since: number; answer: RegExp } | undefined;
  let stale = 0;
  const onAnswer = (body: string, sentAt: number) => {
    if (expected && sentAt > expected.since && !expected.answer.test(body)) stale++;
  };
  const cycling = (async () => {
    for (let i = 1; i <= (check.reloads ?? 6); i++) {
      const before = run.all('reload').filter((e) => e.phase === 'completed').length;
      expected = undefined;
      writeFileSync(file, i % 2 === 1 ? edited : original);
      await run.waitFor(
        'reload',
        () => run.all('reload').filter((e) => e.phase === 'completed').length > before,
        deadline,
      );
      expected = { since: Date.now(), answer: i % 2 === 1 ? check.answersAfter : check.answers };
      const generation = run
        .all('reload')
        .filter((e) => e.phase === 'completed')
        .at(-1)!.generation;
      // The old generation has drained and left before the next save, and the new one has
      // booted whole (it goes live at its first ready worker): a save while the rest still boots
      // is one the reload-loop rule cannot tell from the app's own write (intake/reload-loops.ts),
      // and three in a row leave the file's changes during a boot out (red once in a loaded run).
      await run.waitFor(
        'worker.exited',
        () =>
          run.all('worker.exited').filter((e) => e.generation < generation).length >=
          workers * (generation - 1),
        deadline,
      );
      await run.waitFor(
        'worker.state',
        () =>
          run.all('worker.state').filter((e) => e.generation === generation && e.state === 'ready').length >=
          workers,
        deadline,
      );
      reloads++;
    }
    expected = undefined;
    writeFileSync(file, edited);
    const before = run.all('reload').filter((e) => e.phase === 'completed').length;
    await run.waitFor(
      'reload',
      () => run.all('reload').filter((e) => e.phase === 'completed').length > before,
      deadline,
    );
  })();
  const traffic = await load(port, cycling, 4, { path: check.path, timeoutMs: deadline, onAnswer });
  await cycling;
  const resets = traffic.errors.filter((error) => /ECONNRESET|socket hang up/.test(error)).length;
  t.diagnostic(
    `${reloads} reloads under load: ${traffic.ok} answered, ${traffic.failed} failed, ${resets} resets, ` +
      `${stale} old-code answers to requests sent after a reload was reported complete`,
  );
  assert.equal(
    traffic.failed,
    0,
    [...new Set(traffic.errors)].slice(0, 5).join('\n') + lastTraceback(run.output),
  );
  if (check.freshAfterReload) assert.equal(stale, 0, 'old-code answers after a reload completed');
  assert.ok(traffic.ok > 0);
  assert.ok(reloads > 0);
  const failed = run.all('reload').filter((e) => e.phase === 'failed');
  assert.deepEqual(failed, [], 'no reload failed');
  const after = await get(port, check.path);
  assert.match(after.body, check.answersAfter);

  if (check.hooks) {
    const ran = new Set(
      run
        .all('hook')
        .filter((e) => e.scope === 'worker' && e.phase === 'end' && e.outcome === 'ok')
        .map((e) => e.name),
    );
    for (const name of check.hooks) {
      const found = typeof name === 'string' ? ran.has(name) : [...ran].some((hook) => name.test(hook));
      assert.ok(found, `hook ${String(name)} ran: ${[...ran].join(', ')}`);
    }
  }
  if (check.preloaded) {
    const deps = run.all('worker.deps');
    assert.ok(
      deps.some((e) => e.generation > 1 && e.warm && e.modules > 0),
      `a later generation's worker had its dependencies preloaded: ${JSON.stringify(deps)}`,
    );
  }
  await check.beforeStop?.(port);
  run.signal(check.stop ?? 'SIGTERM');
  assert.equal((await run.waitExit(deadline)).code, 0, run.output);
  await waitGone([...run.workerPids(), ...run.all('standby').map((e) => e.pid)], 2000);
  return run;
}

/** The server's last Python traceback, or else the end of its output: why a request failed. */
function lastTraceback(output: string): string {
  const lines = output.split('\n');
  const start = lines.findLastIndex((line) => line.includes('Traceback (most recent call last)'));
  const shown = start < 0 ? lines.slice(-30) : lines.slice(start, start + 90);
  // A module a worker imported in the middle of a save (mid_save.py) explains what fails after it.
  const warnings = lines.filter((line) => line.includes('was imported empty')).slice(-10);
  return `\nthe server said:\n${[...warnings, ...shown].join('\n')}`;
}
