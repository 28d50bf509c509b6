import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readFileHead, readRegularFile } from '../../runner/fs/read-regular-file';

function folder(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-read-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// A plain read of a FIFO blocks until a writer opens it: the timeout makes a hang a failure.
test(
  'only regular files are read: a FIFO, a socket, a folder and a device are refused at once',
  { timeout: 5000 },
  async (t) => {
    const dir = folder(t);
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    mkdirSync(join(dir, 'folder'));
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(dir, 'socket'), resolve));
    t.after(() => server.close());
    const table: [string, string][] = [
      [join(dir, 'fifo'), 'is not a regular file (a FIFO)'],
      [join(dir, 'socket'), 'is not a regular file (a socket)'],
      [join(dir, 'folder'), 'is not a regular file (a folder)'],
      ['/dev/null', 'is not a regular file (a character device)'],
    ];
    for (const [path, problem] of table) {
      assert.deepEqual(readRegularFile(path, 1024), { ok: false, missing: false, problem }, path);
      assert.deepEqual(readFileHead(path, 16), { ok: false, missing: false, problem }, path);
    }
  },
);

test('a regular file is read whole up to the cap; a bigger one is refused; a head is its first bytes', (t) => {
  const dir = folder(t);
  writeFileSync(join(dir, 'small'), 'node_modules/\n');
  writeFileSync(join(dir, 'big'), 'x'.repeat(2048));
  writeFileSync(join(dir, 'empty'), '');
  assert.deepEqual(readRegularFile(join(dir, 'small'), 1024), {
    ok: true,
    data: Buffer.from('node_modules/\n'),
  });
  assert.deepEqual(readRegularFile(join(dir, 'big'), 1024), {
    ok: false,
    missing: false,
    problem: 'is larger than 1024 bytes',
  });
  assert.deepEqual(readRegularFile(join(dir, 'empty'), 1024), { ok: true, data: Buffer.alloc(0) });
  assert.deepEqual(readFileHead(join(dir, 'big'), 16), { ok: true, data: Buffer.from('x'.repeat(16)) });
  assert.deepEqual(readFileHead(join(dir, 'small'), 4), { ok: true, data: Buffer.from('node') });
  const proc = readRegularFile('/proc/self/stat', 4096); // its size says 0
  assert.ok(proc.ok && proc.data.toString().startsWith(`${process.pid} `));
});

test('a missing file, or one under a file, is missing', (t) => {
  const dir = folder(t);
  writeFileSync(join(dir, 'file'), '');
  for (const path of [join(dir, 'nothing'), join(dir, 'file', 'child')])
    assert.deepEqual(readRegularFile(path, 16), { ok: false, missing: true, problem: 'is missing' });
});
