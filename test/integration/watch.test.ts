/**
 * The watcher, end to end: real files edited in a fresh project (test/support/watched-project.ts),
 * the built arbiter watching it (watching is on by default), and what it reports and serves.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { load } from '../support/http';
import {
  appLines,
  appSource,
  cycle,
  exitedGracefully,
  next,
  onlyThisSaveCycles,
  project,
  reloadsSince,
  serves,
  start,
  type TestContext,
} from '../support/watched-project';

test('an edit: exactly one cycle, the new code serves, the old workers exit by themselves', async (t) => {
  const p = project();
  const { run, port, generation, pids: oldPids } = await start(t, p, { workers: 2 });
  const mark = run.events.length;

  writeFileSync(p.app, appSource('v2'));
  const { triggered, completed, pids } = await cycle(run, mark, 2);
  assert.equal(triggered.generation, generation + 1);
  assert.equal(triggered.trigger, 'file change');
  assert.deepEqual(triggered.files, [p.app]);
  assert.equal(completed.generation, generation + 1);
  await exitedGracefully(run, oldPids);
  await serves(port, 'v2', pids);

  // The old generation's exit came after the completion: any second cycle would have
  // started by then (a change that arrives during a cycle starts right after it).
  assert.deepEqual(
    reloadsSince(run, mark).map((e) => `${e.phase} ${e.generation}`),
    [`triggered ${generation + 1}`, `completed ${generation + 1}`],
  );
  assert.deepEqual(run.invalidLines, []);
});

/**
 * A burst: 200 files written in a tight loop, then the app. `create` writes new files (a
 * checkout that adds them, a code generator); otherwise the files exist and are rewritten.
 */
async function burst(t: TestContext, create: boolean): Promise<void> {
  const existing: Record<string, string> = {};
  for (let i = 0; i < 200 && !create; i++) existing[`lib/module-${i}.js`] = `module.exports = 'old ${i}';\n`;
  const p = project({ 'lib/index.js': 'module.exports = {};\n', ...existing });
  const { run, port, generation } = await start(t, p);
  const mark = run.events.length;

  const written: string[] = [];
  for (let i = 0; i < 200; i++) written.push(p.write(`lib/module-${i}.js`, `module.exports = ${i};\n`));
  writeFileSync(p.app, appSource('v2'));
  const { triggered, pids } = await cycle(run, mark);
  const reloads = () =>
    reloadsSince(run, mark).map((e) => `${e.phase} ${e.generation} (${e.files?.length ?? 0} files)`);
  assert.equal(triggered.generation, generation + 1);
  assert.equal(triggered.files?.length, 201, `one batch of every written file: ${reloads().join(', ')}`);
  assert.deepEqual(new Set(triggered.files), new Set([...written, p.app]));
  await serves(port, 'v2', pids);

  const after = await onlyThisSaveCycles(run, p.app, 'v3', generation + 2);
  assert.equal(
    reloadsSince(run, mark).filter((e) => e.phase === 'triggered').length,
    2,
    reloads().join(', '),
  );
  await exitedGracefully(run, pids);
  await serves(port, 'v3', after.pids);
}

test('a burst of 200 rewritten files and the app edit: exactly one cycle', async (t) => {
  await burst(t, false);
});

// chokidar finds new files by re-reading their folder, in waves tens of milliseconds apart;
// the watcher's raw events name them at once.
test('a burst of 200 new files and the app edit: exactly one cycle', async (t) => {
  await burst(t, true);
});

test('an editor-style save (write a temp file, rename it over the app): one cycle, and later saves still count', async (t) => {
  const p = project();
  const { run, port, generation, pids: firstPids } = await start(t, p);

  // JetBrains' safe write: the new content goes to a temp file, which replaces the original.
  let mark = run.events.length;
  const temp = `${p.app}___jb_tmp___`;
  writeFileSync(temp, appSource('v2'));
  renameSync(temp, p.app);
  const first = await cycle(run, mark);
  assert.equal(first.triggered.generation, generation + 1);
  assert.deepEqual(first.triggered.files, [p.app]);
  await exitedGracefully(run, firstPids);
  await serves(port, 'v2', first.pids);
  assert.equal(reloadsSince(run, mark).length, 2, 'one cycle');

  // The app is a new file (inode) now: a plain save of it must still be seen.
  mark = run.events.length;
  writeFileSync(p.app, appSource('v3'));
  const second = await cycle(run, mark);
  assert.equal(second.triggered.generation, generation + 2);
  assert.deepEqual(second.triggered.files, [p.app]);
  await exitedGracefully(run, first.pids);
  await serves(port, 'v3', second.pids);
  assert.equal(reloadsSince(run, mark).length, 2, 'one cycle');
});

test('the watcher reports its first walk: the files it judges and the folders it watches, ignored ones left out', async (t) => {
  const p = project({
    'lib/a.js': '',
    'lib/deep/b.js': '',
    'node_modules/pkg/index.js': '',
    'dist/bundle.js': '',
    '.git/HEAD': '',
  });
  const { watching } = await start(t, p);
  assert.equal(watching.files, 3, 'server.js, lib/a.js, lib/deep/b.js');
  assert.equal(watching.folders, 3, 'the project, lib, lib/deep');
});

test('a deleted file is a change: one cycle, the failure it causes is reported, restoring it recovers', async (t) => {
  const p = project({ 'lib/version.js': `module.exports = 'v2';\n` });
  const { run, port, generation } = await start(t, p);
  const version = join(p.dir, 'lib', 'version.js');
  let mark = run.events.length;
  writeFileSync(p.app, appLines('', [], './lib/version.js').join('\n') + '\n');
  const { pids } = await cycle(run, mark);
  await serves(port, 'v2', pids);

  mark = run.events.length;
  rmSync(version);
  const triggered = await next(run, mark, 'reload', (e) => e.phase === 'triggered');
  assert.deepEqual(triggered.files, [version]);
  const failed = await next(run, mark, 'reload', (e) => e.phase !== 'triggered');
  assert.equal(failed.phase, 'failed');
  assert.match(failed.error?.message ?? '', /Cannot find module '\.\/lib\/version\.js'/);
  await serves(port, 'v2', pids); // the last good generation keeps serving

  mark = run.events.length;
  writeFileSync(version, `module.exports = 'v3';\n`);
  const recovered = await cycle(run, mark);
  assert.equal(recovered.triggered.generation, generation + 3);
  await serves(port, 'v3', recovered.pids);
});

test('a folder moved into the project with files in it: one cycle naming each of them', async (t) => {
  const p = project();
  const { run, generation } = await start(t, p);
  // Written outside the watched tree, then moved in: no watcher saw these files being written.
  const outside = realpathSync(mkdtempSync(join(tmpdir(), 'arbiter-moved-')));
  t.after(() => rmSync(outside, { recursive: true, force: true }));
  for (const name of ['a.js', 'b.js', 'c.js'])
    writeFileSync(join(outside, name), `module.exports = '${name}';\n`);
  const mark = run.events.length;
  renameSync(outside, join(p.dir, 'moved'));
  const { triggered } = await cycle(run, mark);
  assert.equal(triggered.generation, generation + 1);
  assert.deepEqual(
    new Set(triggered.files),
    new Set(['a.js', 'b.js', 'c.js'].map((name) => join(p.dir, 'moved', name))),
  );
  await onlyThisSaveCycles(run, p.app, 'v2', generation + 2);
});

test('ignored paths never start a cycle: node_modules, .git, .gitignore matches, editor swap files', async (t) => {
  const p = project({
    '.gitignore': 'logs/\n*.log\n',
    'node_modules/dep/index.js': 'module.exports = 1;\n',
    '.git/HEAD': 'ref: refs/heads/main\n',
    'logs/.keep': '',
  });
  const { run, port, generation, pids: oldPids } = await start(t, p);
  const mark = run.events.length;

  p.write('node_modules/dep/index.js', 'module.exports = 2;\n');
  p.write('node_modules/new-dep/index.js', 'module.exports = 3;\n');
  p.write('.git/HEAD', 'ref: refs/heads/feature\n');
  p.write('.git/index', 'index');
  p.write('logs/app.txt', 'a log line\n');
  p.write('debug.log', 'a log line\n');
  p.write('lib/trace.log', 'a log line\n');
  p.write('.server.js.swp', 'vim swap');
  p.write('server.js~', 'backup');
  writeFileSync(p.app, appSource('v2'));

  const { triggered, pids } = await cycle(run, mark);
  assert.equal(triggered.generation, generation + 1);
  assert.deepEqual(triggered.files, [p.app], 'the real edit alone');
  await exitedGracefully(run, oldPids);
  await serves(port, 'v2', pids);
  assert.equal(reloadsSince(run, mark).length, 2, 'one cycle');
  await onlyThisSaveCycles(run, p.app, 'v3', generation + 2);
});

test('--ignore GLOB: changes under it never start a cycle', async (t) => {
  const p = project({ 'data/seed.json': '{}\n' });
  const { run, generation } = await start(t, p, { args: ['--ignore', 'data/**'] });
  const mark = run.events.length;

  p.write('data/seed.json', '{"changed":true}\n');
  p.write('data/nested/new.json', '{}\n');
  writeFileSync(p.app, appSource('v2'));

  const { triggered } = await cycle(run, mark);
  assert.equal(triggered.generation, generation + 1);
  assert.deepEqual(triggered.files, [p.app]);
  assert.equal(reloadsSince(run, mark).length, 2, 'one cycle');
  await onlyThisSaveCycles(run, p.app, 'v3', generation + 2);
});

test('--watch GLOB: a change outside it does not start a cycle, a change inside does', async (t) => {
  const p = project({ 'src/version.js': `module.exports = 'v1';\n`, 'README.md': '# app\n' });
  const versionFile = join(p.dir, 'src', 'version.js');
  writeFileSync(p.app, appLines('', [], './src/version.js').join('\n') + '\n');
  const {
    run,
    port,
    generation,
    pids: oldPids,
  } = await start(t, p, {
    args: ['--watch', 'src/**'],
  });
  const mark = run.events.length;

  p.write('README.md', '# app, documented\n');
  p.write('notes.txt', 'outside src\n');
  writeFileSync(p.app, appLines('', [`// edited outside src`], './src/version.js').join('\n') + '\n');
  writeFileSync(versionFile, `module.exports = 'v2';\n`);

  const { triggered, pids } = await cycle(run, mark);
  assert.equal(triggered.generation, generation + 1);
  assert.deepEqual(triggered.files, [versionFile], 'the change inside src alone');
  await exitedGracefully(run, oldPids);
  await serves(port, 'v2', pids);
  assert.equal(reloadsSince(run, mark).length, 2, 'one cycle');

  // And once more inside: the next generation, carrying that file alone.
  const again = run.events.length;
  writeFileSync(versionFile, `module.exports = 'v3';\n`);
  const last = await cycle(run, again);
  assert.equal(last.triggered.generation, generation + 2);
  assert.deepEqual(last.triggered.files, [versionFile]);
  await exitedGracefully(run, pids);
  await serves(port, 'v3', last.pids);
});

/**
 * A save that breaks the app: the old generation keeps serving, the failure names the app
 * and the line; the next save that fixes it cycles with no restart by hand.
 */
async function breakThenFix(
  t: TestContext,
  brokenLines: string[],
  expectedLine: number | undefined,
  message: RegExp,
  args: readonly string[] = [],
) {
  const p = project();
  const { run, port, generation, pids: oldPids } = await start(t, p, { workers: 2, args });
  let mark = run.events.length;

  writeFileSync(p.app, brokenLines.join('\n') + '\n');
  const failed = await next(run, mark, 'reload', (e) => e.phase === 'failed');
  assert.equal(failed.generation, generation + 1);
  assert.deepEqual(
    reloadsSince(run, mark).map((e) => e.phase),
    ['triggered', 'failed'],
  );
  assert.match(failed.error?.message ?? '', message);
  if (expectedLine !== undefined) {
    assert.equal(failed.error?.file, p.app);
    assert.equal(failed.error?.line, expectedLine, JSON.stringify(failed.error));
  }
  for (let i = 0; i < 6; i++) await serves(port, 'v1', oldPids);
  const oldExits = run.all('worker.exited').filter((e) => oldPids.includes(e.pid));
  assert.deepEqual(oldExits, [], 'the old generation is untouched');
  // The failed generation's workers are gone (none is left booting in the background).
  for (const spawned of run.all('worker.spawned').filter((e) => e.generation === failed.generation))
    await run.waitFor('worker.exited', (e) => e.id === spawned.id);

  mark = run.events.length;
  writeFileSync(p.app, appSource('v3'));
  const fixed = await cycle(run, mark, 2);
  assert.equal(fixed.triggered.generation, generation + 2);
  assert.deepEqual(fixed.triggered.files, [p.app]);
  await exitedGracefully(run, oldPids);
  await serves(port, 'v3', fixed.pids);
  assert.equal(run.child.exitCode, null, 'the arbiter never stopped');
}

test('a syntax error: the old generation keeps serving, the error names file and line; fixing it cycles', async (t) => {
  const lines = appLines('v2');
  const at = lines.findIndex((line) => line.includes(`response.end('version='`));
  lines[at] = `  response.end('version=' + VERSION +);`;
  await breakThenFix(t, lines, at + 1, /Unexpected token/);
});

test('an exception at import: the old generation keeps serving, the error is at the throw; fixing it cycles', async (t) => {
  const lines = appLines('v2', [
    `const settings = { retries: 3, mode: 'strict' };`,
    `function check(value) {`,
    `  if (value > 2) {`,
    `    throw new Error('too many retries: ' + value);`,
    `  }`,
    `}`,
    `check(settings.retries);`,
  ]);
  const at = lines.findIndex((line) => line.includes('throw new Error'));
  await breakThenFix(t, lines, at + 1, /too many retries: 3/);
});

test('a crash before ready: the old generation keeps serving, the exit is reported; fixing it cycles', async (t) => {
  const lines = appLines('v2').filter((line) => !line.startsWith('server.listen'));
  lines.push(`setTimeout(() => process.exit(7), 20);`);
  await breakThenFix(t, lines, undefined, /exit code 7|code 7/);
});

test('a readiness timeout: the old generation keeps serving, the timeout is reported; fixing it cycles', async (t) => {
  // Loads fine and stays up, but never listens: only the boot timeout can tell.
  const lines = appLines('v2').filter((line) => !line.startsWith('server.listen'));
  lines.push(`setInterval(() => {}, 1000);`);
  await breakThenFix(t, lines, undefined, /not ready within 1 s/, ['--boot-timeout', '1']);
});

test('a config file edit (workers: 1 → 2) cycles to a generation of two workers', async (t) => {
  const p = project({ 'arbiter.config.mjs': 'export default { workers: 1 };\n' });
  const config = join(p.dir, 'arbiter.config.mjs');
  const { run, port, generation, pids: oldPids } = await start(t, p, { configured: true });
  assert.equal((await run.waitFor('arbiter.started')).config.workers, 1);
  const mark = run.events.length;

  writeFileSync(config, 'export default { workers: 2 };\n');
  const { triggered, completed, pids } = await cycle(run, mark, 2);
  assert.equal(triggered.generation, generation + 1);
  assert.deepEqual(triggered.files, [config]);
  const spawned = run.all('worker.spawned').filter((e) => e.generation === completed.generation);
  assert.equal(spawned.length, 2, 'the new generation has two workers');
  assert.equal(new Set(pids).size, 2);
  await exitedGracefully(run, oldPids);
  await serves(port, 'v1', pids);
  assert.equal(reloadsSince(run, mark).length, 2, 'one cycle');
});

/** A GET whose `firstByte` resolves once the first body byte arrives. */
function slowGet(port: number, path: string) {
  let started!: () => void;
  const firstByte = new Promise<void>((resolve) => (started = resolve));
  const response = new Promise<{ status: number; body: string; pid: number }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
          started();
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, pid: Number(res.headers['x-worker-pid']) }),
        );
        res.on('error', reject);
      })
      .on('error', reject);
  });
  return { firstByte, response };
}

test('a slow request in flight survives an edit-triggered reload', async (t) => {
  const p = project();
  const { run, port, generation, pids } = await start(t, p);
  const slow = slowGet(port, '/slow');
  // start() returns once the warm-up's generation alone is left: its one worker has it. (Its
  // counters would say so too, but only up to a second later, most of the request's time.)
  const [old] = pids as [number];
  await slow.firstByte;
  const mark = run.events.length;

  writeFileSync(p.app, appSource('v2'));
  const { completed, pids: newPids } = await cycle(run, mark);
  assert.equal(completed.generation, generation + 1);
  const draining = await next(run, mark, 'worker.state', (e) => e.pid === old && e.state === 'draining');
  const response = await slow.response;
  const endedAt = Date.now();
  assert.ok(draining.ts < endedAt, 'the old worker was already told to stop while it answered');
  assert.equal(response.status, 200);
  assert.equal(response.body, 'start;done v1');
  assert.equal(response.pid, old);
  await exitedGracefully(run, [old]);
  await serves(port, 'v2', newPids);
});

test('50 edit-triggered reloads under continuous load: zero failed requests', async (t) => {
  const p = project();
  const { run, port, generation } = await start(t, p, { workers: 2 });
  const mark = run.events.length;
  let stopLoad!: () => void;
  const traffic = load(port, new Promise<void>((resolve) => (stopLoad = resolve)), 4);
  const RELOADS = 50;
  let pids: number[] = [];
  try {
    for (let i = 1; i <= RELOADS; i++) {
      const before = run.events.length;
      writeFileSync(p.app, appSource(`v${i + 1}`));
      const done = await cycle(run, before, 2);
      assert.equal(
        done.triggered.generation,
        generation + i,
        `save ${i}: ${JSON.stringify(reloadsSince(run, before))}`,
      );
      assert.deepEqual(done.triggered.files, [p.app]);
      pids = done.pids;
    }
    // The old generations leave under load too.
    const last = generation + RELOADS;
    const old = run.all('worker.spawned').filter((e) => e.generation < last);
    await exitedGracefully(
      run,
      old.map((e) => e.pid),
    );
  } finally {
    stopLoad();
  }
  const result = await traffic;
  assert.equal(result.failed, 0, `failed requests: ${result.errors.slice(0, 5).join(', ')}`);
  assert.ok(result.ok > 100, `only ${result.ok} requests went through`);
  const reloads = reloadsSince(run, mark);
  assert.equal(reloads.filter((e) => e.phase === 'triggered').length, RELOADS);
  assert.equal(reloads.filter((e) => e.phase === 'completed').length, RELOADS);
  await serves(port, `v${RELOADS + 1}`, pids);
});

test("saves during a cycle's boot fold into one follow-up cycle, which supersedes the stale boot", async (t) => {
  const p = project();
  const { run, port, generation } = await start(t, p);
  const mark = run.events.length;

  // v2 says when it has been read and holds its readiness a moment, so the next two saves land
  // during the cycle but never while a worker reads the file (a half-written file would fail
  // the cycle, rightly; that is another test's subject).
  writeFileSync(
    p.app,
    appSource('v2', [
      `console.log('loaded v2');`,
      `const ready = globalThis.arbiter?.holdReady('test: a long cycle');`,
      `setTimeout(() => ready?.(), 300);`,
    ]),
  );
  const first = await next(run, mark, 'reload', (e) => e.phase === 'triggered');
  await run.waitForOutput(/loaded v2/); // its one worker read it
  writeFileSync(p.app, appSource('v3'));
  writeFileSync(p.app, appSource('v4'));
  assert.ok(
    !reloadsSince(run, mark).some((e) => e.phase === 'completed'),
    'the two saves landed while the first cycle ran',
  );
  assert.equal(first.generation, generation + 1);
  assert.deepEqual(first.files, [p.app]);

  // v2 was not live yet: it is superseded (its worker killed before it served), and the two
  // saves made meanwhile boot as one cycle.
  const superseded = await next(run, mark, 'reload', (e) => e.phase !== 'triggered');
  assert.equal(superseded.phase, 'superseded');
  const followUp = await cycle(run, run.events.indexOf(superseded));
  assert.equal(followUp.triggered.generation, generation + 2);
  assert.deepEqual(followUp.triggered.files, [p.app]);
  for (const stale of run.all('worker.spawned').filter((e) => e.generation === generation + 1)) {
    const exited = await run.waitFor('worker.exited', (e) => e.pid === stale.pid);
    assert.equal(exited.state, 'killed', exited.reason);
  }
  await serves(port, 'v4', followUp.pids);
  assert.deepEqual(
    reloadsSince(run, mark).map((e) => `${e.phase} ${e.generation}`),
    [
      `triggered ${generation + 1}`,
      `superseded ${generation + 1}`,
      `triggered ${generation + 2}`,
      `completed ${generation + 2}`,
    ],
    'two cycles for three saves',
  );
  // And nothing more was pending: the next save starts the very next generation.
  await onlyThisSaveCycles(run, p.app, 'v5', generation + 3);
});
