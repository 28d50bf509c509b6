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
  cycle,
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
  await serves(port, 'v1', pids);
  await onlyThisSaveCycles(run, p.app, 'v2', generation + 2);
});
