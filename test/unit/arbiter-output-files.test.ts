import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { arbiterOutputFiles } from '../../runner/watch/arbiter-output-files';

test('the events files (resolved against the cwd, and their real paths) and the regular files on its fds', (t) => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'arbiter-own-')));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  symlinkSync(dir, join(dir, 'here'));
  const events = join(dir, 'events.ndjson');
  closeSync(openSync(events, 'a'));
  const inherited = openSync(join(dir, 'inherited.ndjson'), 'a');
  t.after(() => closeSync(inherited));
  const fifoLike = openSync('/dev/null', 'a'); // not a regular file: never a change anyway

  const files = arbiterOutputFiles(
    ['./here/events.ndjson', `/dev/fd/${inherited}`, `/dev/fd/${fifoLike}`, 'later.ndjson'],
    dir,
  );
  closeSync(fifoLike);
  assert.deepEqual(
    new Set(files.filter((file) => file.startsWith(dir))),
    new Set([
      join(dir, 'here', 'events.ndjson'),
      events,
      join(dir, 'later.ndjson'),
      join(dir, 'inherited.ndjson'),
    ]),
  );
  assert.ok(!files.includes('/dev/null'));
});
