/**
 * Arbiter-side hooks and settings from a config file: every hook runs at its moment with the
 * right arguments and is reported as a `hook` event; a broken hook is reported and the arbiter
 * goes on; the command line wins over the file; HUP re-reads the file.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HOOK_NAMES, type ArbiterInfo, type HookName } from '../../runner/config/hooks';
import { get } from '../support/http';
import { FIXTURES, startArbiter, type ArbiterRun } from '../support/arbiter-run';

const APP = join(FIXTURES, 'app.js');
const ARGS = ['-b', '127.0.0.1:0', '--no-reload', APP];

type Marker = { hook: HookName; args: [ArbiterInfo, Record<string, unknown>?] };

const tempDir = (name: string) => mkdtempSync(join(tmpdir(), `arbiter-${name}-`));

/**
 * A config whose every hook appends `{ hook, args }` as one JSON line to `markers`, written as
 * an ES module or, with `typescript`, as TypeScript with type annotations.
 */
function hooksConfig(markers: string, options: { typescript?: boolean } = {}): string {
  const ts = options.typescript;
  const lines = [
    `import { appendFileSync } from 'node:fs';`,
    ts
      ? `type Info = { pid: number; app: string; workers: number; listeners: string[] };\ntype Worker = { id: number; pid?: number; generation: number };`
      : '',
    `const note = (hook${ts ? ': string' : ''}, ...args${ts ? ': unknown[]' : ''})${ts ? ': void' : ''} =>`,
    `  appendFileSync(${JSON.stringify(markers)}, JSON.stringify({ hook, args }) + '\\n');`,
    `export default {`,
    `  onStarting(arbiter${ts ? ': Info' : ''}) { note('onStarting', arbiter); },`,
    `  whenReady(arbiter${ts ? ': Info' : ''}) { note('whenReady', arbiter); },`,
    `  onReload(arbiter${ts ? ': Info' : ''}, cycle${ts ? ': { generation: number; trigger: string }' : ''}) { note('onReload', arbiter, cycle); },`,
    `  preFork(arbiter${ts ? ': Info' : ''}, worker${ts ? ': Worker' : ''}) { note('preFork', arbiter, worker); },`,
    `  postFork(arbiter${ts ? ': Info' : ''}, worker${ts ? ': Worker' : ''}) { note('postFork', arbiter, worker); },`,
    `  workerExit(arbiter${ts ? ': Info' : ''}, worker${ts ? ': Worker' : ''}) { note('workerExit', arbiter, worker); },`,
    `  childExit(arbiter${ts ? ': Info' : ''}, worker${ts ? ': Worker' : ''}) { note('childExit', arbiter, worker); },`,
    `  workersChanged(arbiter${ts ? ': Info' : ''}, change${ts ? ': { from: number; to: number }' : ''}) { note('workersChanged', arbiter, change); },`,
    `  onExit(arbiter${ts ? ': Info' : ''}) { note('onExit', arbiter); },`,
    `};`,
  ];
  return lines.join('\n') + '\n';
}

const readMarkers = (file: string): Marker[] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Marker);

/** The end events of `name`'s runs, once every start is known to have its end. */
function hookRuns(run: ArbiterRun, name: HookName) {
  const events = run.all('hook').filter((e) => e.name === name);
  const starts = events.filter((e) => e.phase === 'start');
  const ends = events.filter((e) => e.phase === 'end');
  assert.equal(starts.length, ends.length, `${name}: ${JSON.stringify(events)}`);
  return ends;
}

/** Start (-w 2), HUP, TTIN, TERM; then checks the event stream and the markers. */
async function driveEveryHook(run: ArbiterRun, markersFile: string): Promise<void> {
  const started = await run.waitFor('arbiter.started');
  const listener = started.listeners[0]!;
  assert.ok('port' in listener);
  const gen1 = await run.ready(2, 1);
  await run.waitFor('hook', (e) => e.name === 'whenReady' && e.phase === 'end');

  run.signal('SIGHUP');
  await run.waitFor('reload', (e) => e.phase === 'completed' && e.generation === 2);
  await run.ready(2, 2);
  for (const worker of gen1) await run.waitFor('worker.exited', (e) => e.pid === worker.pid);

  run.signal('SIGTTIN');
  await run.waitFor('arbiter.workers', (e) => e.count === 3);
  const gen2 = await run.ready(3, 2);
  assert.equal((await get(await run.port())).status, 200);

  run.signal('SIGTERM');
  assert.equal((await run.waitExit()).code, 0, run.output);
  assert.deepEqual(run.invalidLines, []);

  // The event stream: every hook ran, in the arbiter, with start, end, outcome and duration.
  const spawned = run.all('worker.spawned');
  assert.equal(spawned.length, 5);
  const expectedRuns: Record<HookName, number> = {
    onStarting: 1,
    whenReady: 1,
    onReload: 1,
    preFork: 5,
    postFork: 5,
    workerExit: 5,
    childExit: 5,
    workersChanged: 1,
    onExit: 1,
  };
  for (const name of HOOK_NAMES) {
    const ends = hookRuns(run, name);
    assert.equal(ends.length, expectedRuns[name], `${name} ran ${ends.length} times`);
    for (const event of run.all('hook').filter((e) => e.name === name)) {
      assert.equal(event.scope, 'arbiter');
      assert.equal(event.pid, run.pid);
    }
    for (const end of ends) {
      assert.equal(end.outcome, 'ok', `${name}: ${end.error}`);
      assert.equal(typeof end.durationMs, 'number');
      assert.ok(end.durationMs! >= 0);
      assert.equal(end.error, undefined);
    }
  }

  // The markers: each hook at its moment, with the right arguments.
  const markers = readMarkers(markersFile);
  const names = markers.map((m) => m.hook);
  const of = (hook: HookName) => markers.filter((m) => m.hook === hook);
  for (const marker of markers) {
    assert.equal(marker.args[0].pid, run.pid, JSON.stringify(marker));
    assert.equal(marker.args[0].app, APP);
  }
  assert.equal(names[0], 'onStarting');
  assert.equal(names.at(-1), 'onExit');
  for (const hook of ['onStarting', 'whenReady', 'onReload', 'workersChanged', 'onExit'] as const)
    assert.equal(of(hook).length, 1, `${hook}: ${names.join(', ')}`);
  assert.deepEqual(of('onStarting')[0]!.args[0].listeners, [], 'onStarting runs before the bind');
  assert.equal(of('onStarting')[0]!.args[0].workers, 2);
  const whenReady = of('whenReady')[0]!.args[0];
  assert.equal(whenReady.workers, 2);
  assert.equal(whenReady.listeners.length, 1);
  assert.match(whenReady.listeners[0]!, /^127\.0\.0\.1:\d+$/);

  // preFork / postFork: once per spawned worker, ids matching, preFork first.
  const refs = spawned.map(({ id, pid, generation }) => ({ id, pid, generation }));
  assert.deepEqual(
    of('preFork').map((m) => m.args[1]),
    refs.map(({ id, generation }) => ({ id, generation })),
  );
  assert.deepEqual(
    of('postFork').map((m) => m.args[1]),
    refs,
  );
  for (const { id } of refs) {
    const pre = markers.findIndex((m) => m.hook === 'preFork' && m.args[1]?.id === id);
    const post = markers.findIndex((m) => m.hook === 'postFork' && m.args[1]?.id === id);
    assert.ok(pre < post, `worker ${id}: preFork at ${pre}, postFork at ${post}`);
  }
  assert.deepEqual(
    refs.map((r) => r.generation),
    [1, 1, 2, 2, 2],
  );
  // whenReady once the first generation is up; onReload before the second is forked.
  const secondFork = markers.findIndex((m) => m.hook === 'postFork' && m.args[1]?.id === refs[1]!.id);
  assert.ok(names.indexOf('whenReady') > secondFork);
  const onReload = of('onReload')[0]!;
  assert.deepEqual(onReload.args[1], { generation: 2, trigger: 'SIGHUP' });
  const firstGen2Fork = markers.findIndex((m) => m.hook === 'preFork' && m.args[1]?.generation === 2);
  assert.ok(names.indexOf('onReload') < firstGen2Fork);
  assert.ok(names.indexOf('whenReady') < names.indexOf('onReload'));
  // workersChanged 2 → 3, before the extra worker is forked.
  const changed = of('workersChanged')[0]!;
  assert.deepEqual(changed.args[1], { from: 2, to: 3 });
  assert.equal(changed.args[0].workers, 3);
  const fifthFork = markers.findIndex((m) => m.hook === 'preFork' && m.args[1]?.id === refs[4]!.id);
  assert.ok(names.indexOf('workersChanged') < fifthFork);

  // Every worker was asked to stop (two by the reload, three by TERM): workerExit and
  // childExit for each, with how it ended.
  const exits = run.all('worker.exited');
  assert.equal(exits.length, 5);
  const exitInfo = exits.map(({ id, pid, generation, code, signal, state, reason }) => ({
    id,
    pid,
    generation,
    code,
    signal,
    state,
    reason,
  }));
  const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;
  for (const hook of ['workerExit', 'childExit'] as const) {
    const infos = of(hook).map((m) => m.args[1] as unknown as (typeof exitInfo)[number]);
    assert.deepEqual([...infos].sort(byId), [...exitInfo].sort(byId), hook);
    for (const info of infos) {
      assert.equal(info.state, 'exited');
      assert.equal(info.code, 0);
      assert.equal(info.signal, null);
    }
  }
  // The first generation's exits come before the TTIN, the rest after it.
  for (const worker of gen1) {
    const exit = markers.findIndex((m) => m.hook === 'childExit' && m.args[1]?.pid === worker.pid);
    assert.ok(exit < names.indexOf('workersChanged'));
  }
  for (const worker of gen2) {
    const exit = markers.findIndex((m) => m.hook === 'childExit' && m.args[1]?.pid === worker.pid);
    assert.ok(exit > names.indexOf('workersChanged'));
  }
}

test('every hook of an auto-discovered arbiter.config.mjs runs at its moment', async (t) => {
  const dir = tempDir('hooks-mjs');
  const markers = join(tempDir('hooks-markers'), 'markers');
  writeFileSync(join(dir, 'arbiter.config.mjs'), hooksConfig(markers));
  const run = startArbiter(t, ['-w', '2', ...ARGS], { cwd: dir });
  await driveEveryHook(run, markers);
});

test('every hook of a TypeScript config given with -c runs at its moment', async (t) => {
  const dir = tempDir('hooks-ts');
  mkdirSync(join(dir, 'config'));
  const markers = join(tempDir('hooks-markers'), 'markers');
  writeFileSync(join(dir, 'config', 'arbiter.config.ts'), hooksConfig(markers, { typescript: true }));
  const run = startArbiter(t, ['-c', 'config/arbiter.config.ts', '-w', '2', ...ARGS], { cwd: dir });
  await driveEveryHook(run, markers);
});

test('a hook that throws is reported as an error and the arbiter keeps serving', async (t) => {
  const dir = tempDir('hooks-throw');
  const markers = join(tempDir('hooks-markers'), 'markers');
  writeFileSync(
    join(dir, 'arbiter.config.mjs'),
    [
      `import { appendFileSync } from 'node:fs';`,
      `export default {`,
      `  whenReady() { throw new Error('whenReady failed on purpose'); },`,
      `  async postFork(arbiter, worker) { throw new Error('postFork rejected for worker ' + worker.id); },`,
      `  onExit() { appendFileSync(${JSON.stringify(markers)}, 'onExit\\n'); },`,
      `};`,
    ].join('\n'),
  );
  const run = startArbiter(t, ['-w', '2', ...ARGS], { cwd: dir });
  await run.ready(2);
  const failed = await run.waitFor('hook', (e) => e.name === 'whenReady' && e.phase === 'end');
  assert.equal(failed.scope, 'arbiter');
  assert.equal(failed.outcome, 'error');
  assert.equal(typeof failed.durationMs, 'number');
  assert.match(failed.error ?? '', /whenReady failed on purpose/);
  const postForks = hookRuns(run, 'postFork');
  assert.equal(postForks.length, 2);
  for (const end of postForks) {
    assert.equal(end.outcome, 'error');
    assert.match(end.error ?? '', /postFork rejected for worker \d/);
  }

  const response = await get(await run.port());
  assert.equal(response.status, 200);
  run.signal('SIGTERM');
  assert.equal((await run.waitExit()).code, 0, run.output);
  assert.equal(hookRuns(run, 'onExit')[0]?.outcome, 'ok');
  assert.match(run.output, /hook whenReady failed: .*whenReady failed on purpose/);
  assert.equal(readFileSync(markers, 'utf8'), 'onExit\n');
  for (const exited of run.all('worker.exited')) assert.equal(exited.state, 'exited');
});

test('settings come from the config file; the command line wins over it', async (t) => {
  const dir = tempDir('config-settings');
  writeFileSync(join(dir, 'arbiter.config.mjs'), `export default { workers: 1, gracefulTimeout: 5 };\n`);
  const run = startArbiter(t, ['-w', '2', ...ARGS], { cwd: dir });
  const started = await run.waitFor('arbiter.started');
  assert.equal(started.config.workers, 2);
  assert.equal(started.config.gracefulTimeout, 5);
  await run.ready(2);
  run.signal('SIGTERM');
  // The graceful timeout from the file sets each draining worker's deadline.
  const draining = await run.waitFor('worker.state', (e) => e.state === 'draining');
  const left = draining.deadline! - draining.ts;
  assert.ok(left > 4_800 && left <= 5_000, `deadline ${left} ms away`);
  assert.equal((await run.waitExit()).code, 0);
  assert.equal(run.all('worker.spawned').length, 2);
});

test('HUP re-reads the config file: its new worker count and hooks take effect', async (t) => {
  const dir = tempDir('config-reread');
  const config = join(dir, 'arbiter.config.mjs');
  writeFileSync(config, `export default { workers: 1 };\n`);
  const run = startArbiter(t, ARGS, { cwd: dir });
  assert.equal((await run.waitFor('arbiter.started')).config.workers, 1);
  const [first] = await run.ready(1, 1);

  writeFileSync(
    config,
    `export default { workers: 3, onReload(arbiter, cycle) { if (cycle.generation !== 2) throw new Error('generation ' + cycle.generation); } };\n`,
  );
  run.signal('SIGHUP');
  await run.waitFor('reload', (e) => e.phase === 'completed' && e.generation === 2);
  const second = await run.ready(3, 2);
  assert.equal(new Set(second.map((e) => e.pid)).size, 3);
  assert.equal(run.all('worker.spawned').filter((e) => e.generation === 2).length, 3);
  const exited = await run.waitFor('worker.exited', (e) => e.pid === first!.pid);
  assert.equal(exited.state, 'exited');
  const onReload = hookRuns(run, 'onReload');
  assert.equal(onReload.length, 1);
  assert.equal(onReload[0]!.outcome, 'ok', onReload[0]!.error);

  run.signal('SIGTERM');
  assert.equal((await run.waitExit()).code, 0);
  assert.equal(run.all('worker.exited').length, 4);
});

test('hooks are told the port actually bound, not the :0 that was asked for', async (t) => {
  const dir = tempDir('hooks-port');
  const markers = join(tempDir('hooks-markers'), 'markers');
  writeFileSync(join(dir, 'arbiter.config.mjs'), hooksConfig(markers));
  const run = startArbiter(t, ['-w', '1', ...ARGS], { cwd: dir });
  const port = await run.port();
  await run.waitFor('hook', (e) => e.name === 'whenReady' && e.phase === 'end');
  const whenReady = readMarkers(markers).find((m) => m.hook === 'whenReady')!;
  assert.deepEqual(whenReady.args[0].listeners, [`127.0.0.1:${port}`]);
});

test('an async childExit hook still running at stop finishes (and is reported) before onExit', async (t) => {
  const dir = tempDir('hooks-async-exit');
  const markers = join(tempDir('hooks-markers'), 'markers');
  writeFileSync(
    join(dir, 'arbiter.config.mjs'),
    [
      `import { appendFileSync } from 'node:fs';`,
      `import { setTimeout } from 'node:timers/promises';`,
      `const note = (line) => appendFileSync(${JSON.stringify(markers)}, line + '\\n');`,
      `export default {`,
      `  async childExit(arbiter, worker) { await setTimeout(200); note('childExit ' + worker.id); },`,
      `  onExit() { note('onExit'); },`,
      `};`,
    ].join('\n'),
  );
  const run = startArbiter(t, ['-w', '1', ...ARGS], { cwd: dir });
  await run.ready(1);
  run.signal('SIGTERM');
  assert.equal((await run.waitExit()).code, 0);
  assert.equal(hookRuns(run, 'childExit')[0]?.outcome, 'ok');
  assert.equal(readFileSync(markers, 'utf8'), 'childExit 1\nonExit\n');
});
