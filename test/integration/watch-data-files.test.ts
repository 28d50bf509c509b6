/**
 * What the app and the arbiter write is not source: the arbiter's own events file and output,
 * SQLite databases (judged by their header, whatever their name) with their journals, logs and
 * pid files never start a cycle; a file the app rewrites on every boot is a loop, broken and
 * reported once. Real files, a real SQLite (Python's), the built arbiter.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  appSource,
  cycle,
  next,
  onlyThisSaveCycles,
  project,
  reloadsSince,
  serves,
  start,
} from '../support/watched-project';

/** Runs `statements` on the SQLite database at `path` through Python's sqlite3 module. */
function sqlite(path: string, statements: readonly string[], journalMode = 'delete'): void {
  const script = [
    'import sqlite3, sys',
    'db = sqlite3.connect(sys.argv[1])',
    `db.execute('pragma journal_mode=${journalMode}')`,
    'for statement in sys.argv[2:]:',
    '    db.execute(statement)',
    '    db.commit()',
    'db.close()',
  ].join('\n');
  execFileSync('python3', ['-c', script, path, ...statements]);
}

test("the arbiter's own events file and its output redirected into the project never start a cycle", async (t) => {
  const p = project();
  // Not *.log: a name no default rule knows, so only knowing it as the arbiter's own output helps.
  const output = join(p.dir, 'server.out');
  const { run, generation } = await start(t, p, {
    args: ['--events', './events.ndjson'],
    run: { outputFile: output },
  });
  // Each cycle writes both (a `changed:` and a `reloaded:` line, its events): a second save
  // being the very next generation again proves the first cycle's writes started nothing.
  await onlyThisSaveCycles(run, p.app, 'v2', generation + 1);
  await onlyThisSaveCycles(run, p.app, 'v3', generation + 2);
  const mentioned = run.all('reload').flatMap((e) => e.files ?? []);
  assert.deepEqual(new Set(mentioned), new Set([p.app]));
});

test('SQLite databases (by their header, not their name), their journals, logs and pid files are data, not source', async (t) => {
  const p = project({ 'notes.db': 'plain text, not a database\n' });
  const django = join(p.dir, 'db.sqlite3');
  const fastapi = join(p.dir, 'sql_app.db');
  const renamed = join(p.dir, 'data', 'store'); // a database with no telling name
  p.write('data/.keep', '');
  sqlite(django, ['create table votes (n integer)']);
  sqlite(fastapi, ['create table items (n integer)'], 'wal');
  sqlite(renamed, ['create table kv (k text)']);
  const { run, port, generation } = await start(t, p);
  const mark = run.events.length;

  sqlite(django, ['insert into votes values (1)', 'insert into votes values (2)']); // -journal
  sqlite(fastapi, ['insert into items values (1)'], 'wal'); // -wal and -shm
  sqlite(renamed, ["insert into kv values ('a')"]);
  p.write('app.log', 'GET / 200\n');
  p.write('server.pid', `${process.pid}\n`);
  p.write('notes.db', 'still plain text\n');
  const { triggered, pids } = await cycle(run, mark);
  assert.equal(triggered.generation, generation + 1);
  assert.deepEqual(triggered.files, [join(p.dir, 'notes.db')], 'the one file that is no database');
  assert.equal(reloadsSince(run, mark).length, 2, 'one cycle');
  assert.deepEqual(
    run.all('watcher.ignored').map((e) => `${e.file}: ${e.reason}`),
    [django, fastapi, renamed].map((file) => `${file}: a SQLite database: data, not source`),
    'each database reported once, its journals not at all',
  );
  await run.waitForOutput(/not reloading on db\.sqlite3: a SQLite database: data, not source/);
  await serves(port, 'v1', pids);
  await onlyThisSaveCycles(run, p.app, 'v2', generation + 2);
});

test('a file the app rewrites as it boots: the loop stops after 3 cycles on it, one warning names it and how to ignore it', async (t) => {
  // Every boot writes state.json, so every cycle's boot changes a watched file: without a
  // detector, the arbiter would cycle for ever.
  const p = project();
  const writesState = [`require('node:fs').writeFileSync(__dirname + '/state.json', String(process.pid));`];
  p.write('server.js', appSource('v1', writesState));
  const state = join(p.dir, 'state.json');
  const { run, port } = await start(t, p, { workers: 2 });
  // The first boot may write state.json before the watcher's first walk is done (a busy
  // machine): a HUP makes a boot it sees.
  run.signal('SIGHUP');

  const ignored = await run.waitFor('watcher.ignored');
  assert.equal(ignored.file, state);
  assert.match(ignored.reason, /each of the last 3 reloads/);
  await run.waitForOutput(/reload loop: state\.json .*--ignore 'state\.json'.*\.gitignore/);

  // A real save cycles (a follow-up on state.json queued before the loop was found may come
  // first, or fold into it), and its boot rewrites state.json, which starts nothing: the next
  // save is the very next generation, carrying the app alone.
  const before = run.events.length;
  p.write('server.js', appSource('v2', writesState));
  const edit = await next(
    run,
    before,
    'reload',
    (e) => e.phase === 'triggered' && !!e.files?.includes(p.app),
  );
  const completed = await next(
    run,
    before,
    'reload',
    (e) => e.generation === edit.generation && e.phase !== 'triggered',
  );
  assert.equal(completed.phase, 'completed');
  await serves(
    port,
    'v2',
    (await run.ready(2, edit.generation)).map((e) => e.pid),
  );
  const after = run.events.length;
  p.write('server.js', appSource('v3', writesState));
  const again = await cycle(run, after, 2);
  assert.equal(
    again.triggered.generation,
    edit.generation + 1,
    'the v2 boot wrote state.json and started nothing',
  );
  assert.deepEqual(again.triggered.files, [p.app]);

  // Once the loop is found, at most the one follow-up queued before it still carries state.json.
  // (How many came before depends on the machine: a write a busy watcher reports late, in a
  // batch of its own, starts a follow-up of its own.)
  const found = run.events.indexOf(ignored);
  const late = run.events
    .slice(found)
    .filter((e) => e.type === 'reload' && e.phase === 'triggered' && e.files?.includes(state));
  assert.ok(late.length <= 1, `${late.length} cycles on state.json after the loop was found`);
  assert.equal(run.all('watcher.ignored').length, 1);
  const warnings = run.output.split('\n').filter((line) => /reload loop/.test(line));
  assert.equal(warnings.length, 1, warnings.join('\n'));
});
