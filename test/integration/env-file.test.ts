/**
 * `--env-file`: the app gets the variables as under `node --env-file`, a change to the file
 * reloads with the new values, and the reload says which variables changed — by name only.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { get } from '../support/http';
import { startArbiter } from '../support/arbiter-run';

const APP = `require('node:http').createServer((_q, s) => s.end(JSON.stringify({ greeting: process.env.GREETING, secret: process.env.SECRET, home: process.env.FROM_SHELL }))).listen(process.env.PORT);\n`;

function project(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-env-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'app.js'), APP);
  // .env files are gitignored, and watched all the same.
  writeFileSync(join(dir, '.gitignore'), '.env\n');
  writeFileSync(
    join(dir, '.env'),
    `# a comment\nGREETING="hello"\nSECRET=s3cr3t-one\nexport FROM_SHELL=file\n`,
  );
  writeFileSync(join(dir, '.env.local'), `GREETING=hello local\n`);
  return dir;
}

test('--env-file: later files win, the environment wins over them, a change reloads and names what changed (never a value)', async (t) => {
  const dir = project(t);
  const events = join(dir, 'events.ndjson');
  const run = startArbiter(
    t,
    [
      '-w',
      '1',
      '-b',
      '127.0.0.1:0',
      '--env-file',
      '.env',
      '--env-file',
      '.env.local',
      '--events',
      events,
      'app.js',
    ],
    { cwd: dir, env: { FROM_SHELL: 'shell' } },
  );
  await run.ready(1);
  await run.waitFor('watcher.ready');
  const port = await run.port();
  assert.deepEqual(JSON.parse((await get(port)).body), {
    greeting: 'hello local',
    secret: 's3cr3t-one',
    home: 'shell',
  });

  writeFileSync(join(dir, '.env'), `GREETING="hello"\nSECRET=s3cr3t-two\nADDED=1\nexport FROM_SHELL=file\n`);
  const completed = await run.waitFor('reload', (e) => e.phase === 'completed');
  assert.deepEqual(completed.env, ['ADDED', 'SECRET']);
  await run.ready(1, completed.generation);
  assert.equal((JSON.parse((await get(port)).body) as { secret: string }).secret, 's3cr3t-two');
  await run.waitForOutput(/env: ADDED, SECRET changed/); // stderr, after the event on its own pipe
  for (const text of [run.output, readFileSync(events, 'utf8')]) assert.doesNotMatch(text, /s3cr3t/);
});

test('--env-file for a file that does not exist: one line, a non-zero exit', async (t) => {
  const dir = project(t);
  const run = startArbiter(t, ['-w', '1', '--env-file', 'missing.env', 'app.js'], { cwd: dir });
  const { code } = await run.waitExit();
  // Node 20 itself checks every --env-file on its command line, even after the script (and
  // then leaves the variables alone): it says so and exits 9 before the arbiter runs.
  if (code === 9) assert.match(run.output, /^\S*node: missing\.env: not found$/m);
  else {
    assert.equal(code, 2);
    assert.match(run.output, new RegExp(`env file '${join(dir, 'missing.env')}' does not exist`));
  }
  assert.equal(run.output.trim().split('\n').length, 1, run.output);
});

test('an env file that goes away: the reload fails in one line and the old generation serves on', async (t) => {
  const dir = project(t);
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--env-file', '.env.local', 'app.js'], {
    cwd: dir,
  });
  const [worker] = await run.ready(1);
  await run.waitFor('watcher.ready');
  rmSync(join(dir, '.env.local'));
  const failed = await run.waitFor('reload', (e) => e.phase === 'failed');
  assert.match(failed.error?.message ?? '', /env file '.*\.env\.local' does not exist/);
  assert.equal(
    (JSON.parse((await get(await run.port())).body) as { greeting: string }).greeting,
    'hello local',
  );
  assert.equal(run.all('worker.exited').length, 0, `worker ${worker!.pid} kept serving`);
});
