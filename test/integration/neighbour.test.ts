/**
 * What another local user can do to the arbiter through the shared temporary folder: nothing.
 * The neighbour is a real user (useradd), acting through real files, before the arbiter starts.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startArbiter } from '../support/arbiter-run';
import { asUser, neighbour, NOT_ROOT } from '../support/users';

const user = neighbour();

/** A temporary folder like /tmp (anyone may create entries, the sticky bit) and a TypeScript app. */
function sharedTmpAndApp(t: { after: (fn: () => void) => void }): { tmp: string; app: string } {
  const tmp = mkdtempSync(join(tmpdir(), 'arbiter-shared-tmp-'));
  chmodSync(tmp, 0o1777);
  const project = mkdtempSync(join(tmpdir(), 'arbiter-neighbour-app-'));
  writeFileSync(
    join(project, 'server.ts'),
    `import http from 'node:http';\nhttp.createServer((_q, s) => s.end('ok')).listen(process.env.PORT);\n`,
  );
  t.after(() => {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(project, { recursive: true, force: true });
  });
  return { tmp, app: join(project, 'server.ts') };
}

/** Where an arbiter keeps (or, before this was fixed, kept) a TypeScript app's outputs under `tmp`. */
const outputPlaces = (tmp: string) => [join(tmp, 'arbiter-ts'), join(tmp, `arbiter-${process.getuid!()}`)];

test(
  'TypeScript outputs: a folder another user made first is refused with one line, and nothing lands in it',
  { skip: !user && NOT_ROOT },
  async (t) => {
    const { tmp, app } = sharedTmpAndApp(t);
    for (const place of outputPlaces(tmp)) {
      asUser(user!, 'mkdir', [place]);
      asUser(user!, 'chmod', ['0777', place]);
    }
    const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', app], {
      cwd: join(app, '..'),
      env: { TMPDIR: tmp },
    });
    const { code } = await run.waitExit();
    assert.equal(code, 2, run.output);
    assert.match(
      run.output,
      new RegExp(
        `cannot keep TypeScript outputs in ${tmp}/arbiter-\\d+: it belongs to uid ${user!.uid}, not to you`,
      ),
    );
    assert.equal(run.output.trim().split('\n').length, 1, run.output);
    for (const place of outputPlaces(tmp)) assert.deepEqual(readdirSync(place), [], place);
  },
);

test(
  'TypeScript outputs: a symlink planted in their place is never followed, and the sweep deletes nothing behind it',
  { skip: !user && NOT_ROOT },
  async (t) => {
    const { tmp, app } = sharedTmpAndApp(t);
    const victim = mkdtempSync(join(tmpdir(), 'arbiter-victim-'));
    t.after(() => rmSync(victim, { recursive: true, force: true }));
    // Named as an output of an arbiter that is gone: what the start-up sweep removes.
    const bait = join(victim, 'server.999999999.1.cjs');
    writeFileSync(bait, 'precious\n');
    for (const place of outputPlaces(tmp)) asUser(user!, 'ln', ['-s', victim, place]);

    const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', app], {
      cwd: join(app, '..'),
      env: { TMPDIR: tmp },
    });
    const { code } = await run.waitExit();
    assert.equal(code, 2, run.output);
    assert.match(run.output, /cannot keep TypeScript outputs in .*: it is a symbolic link/);
    assert.ok(existsSync(bait), 'the file behind the link was deleted');
    assert.deepEqual(readdirSync(victim), ['server.999999999.1.cjs']);
  },
);
