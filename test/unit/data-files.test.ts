import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DataFiles } from '../../runner/watch/data-files';

const HEADER = Buffer.from('SQLite format 3\0', 'latin1');

test('a SQLite database is known by its header whatever its name; its companions by their database', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-data-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files: Record<string, Buffer | string> = {
    'db.sqlite3': Buffer.concat([HEADER, Buffer.alloc(84)]),
    'db.sqlite3-journal': Buffer.from([0xd9, 0xd5, 0x05, 0xf9]),
    'db.sqlite3-wal': Buffer.from([0x37, 0x7f, 0x06, 0x82]),
    store: Buffer.concat([HEADER, Buffer.alloc(84)]),
    'notes.db': 'plain text, not a database\n',
    'notes.db-journal': 'a diary\n',
    'short.db': 'SQLite',
    'app.js': 'module.exports = 1;\n',
  };
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const reported: string[] = [];
  const data = new DataFiles((path) => reported.push(path));
  const table: [string, boolean][] = [
    ['db.sqlite3', true],
    ['db.sqlite3-journal', true],
    ['db.sqlite3-wal', true],
    ['db.sqlite3-shm', true], // not there (yet): its database is
    ['store', true],
    ['notes.db', false],
    ['notes.db-journal', false],
    ['short.db', false],
    ['app.js', false],
    ['missing.db', false],
  ];
  for (const [name, isData] of table) assert.equal(data.isData(join(dir, name)), isData, name);
  assert.deepEqual(reported, [join(dir, 'db.sqlite3'), join(dir, 'store')], 'each database once');
});

test('a database is taken for one for a second without a read; then it is read again', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-data-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'db');
  writeFileSync(path, HEADER);
  const data = new DataFiles();
  assert.equal(data.isData(path, 1000), true);
  writeFileSync(path, 'now source\n');
  assert.equal(data.isData(path, 1999), true, 'within the second: not read');
  assert.equal(data.isData(path, 2000), false, 'read again');
});
