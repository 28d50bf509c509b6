/**
 * The CLI given bad input: each case must end with a non-zero exit code, one clear message
 * naming the bad value and what was expected, no stack trace, and no process left behind.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../support/arbiter-run';
import { assertCleanFailure, assertExitEvent, project, runCli, withApp } from '../support/cli-outcome';
import type { EventOf } from '../../runner/protocol/events';

void test('missing APP argument', async (t) => {
  const dir = project(t);
  const outcome = await runCli(t, ['--events', join(dir, 'events.ndjson'), '-w', '1'], dir);
  assertCleanFailure(outcome, dir, { code: 2, oneLine: true, says: ['missing APP', 'arbiter --help'] });
});

void test('APP file that does not exist', async (t) => {
  const dir = project(t);
  const app = join(dir, 'nope.js');
  const outcome = await runCli(t, ['-w', '1', app], dir);
  assertCleanFailure(outcome, dir, { code: 2, oneLine: true, says: [`app '${app}' does not exist`] });
});

void test('APP that is a directory with no index.js says so', async (t) => {
  const dir = project(t);
  const app = join(dir, 'src');
  mkdirSync(app);
  const outcome = await runCli(t, ['-w', '1', app], dir);
  assertCleanFailure(outcome, dir, { code: 2, oneLine: true, says: [`app '${app}'`, /directory/] });
});

void test('APP that is not readable', async (t) => {
  if (process.getuid?.() === 0) {
    t.skip('running as root: chmod 000 does not stop root from reading the file');
    return;
  }
  const { dir, app } = withApp(t);
  chmodSync(app, 0o000);
  const outcome = await runCli(t, ['-w', '1', app], dir);
  assertCleanFailure(outcome, dir, { code: 2, oneLine: true, says: [`app '${app}' cannot be read`] });
});

void test('APP that throws at import: exit 4 with the error and where it was thrown', async (t) => {
  const dir = project(t, {
    'app.js': `const ready = false;\nif (!ready) throw new Error('no database configured');\n`,
  });
  const app = join(dir, 'app.js');
  const eventsFile = join(dir, 'events.ndjson');
  const outcome = await runCli(
    t,
    ['-w', '2', '-b', '127.0.0.1:0', '--no-reload', '--events', eventsFile, app],
    dir,
  );
  assertCleanFailure(outcome, dir, {
    code: 4,
    says: [/the app failed to boot: Error: no database configured/, `${app}:2`],
    userFramesIn: app,
  });
  // Both workers really ran (so the process check above had something to miss), and both ended.
  const events = assertExitEvent(dir, 4);
  const spawned = events.filter((e): e is EventOf<'worker.spawned'> => e.type === 'worker.spawned');
  const exited = events.filter((e): e is EventOf<'worker.exited'> => e.type === 'worker.exited');
  assert.equal(spawned.length, 2);
  assert.deepEqual(
    exited.map((event) => [event.pid, event.state]).sort(),
    spawned.map((event) => [event.pid, 'boot-failed']).sort(),
  );
});

void test('APP with a syntax error (CommonJS): the file and the line', async (t) => {
  const dir = project(t, { 'app.js': `const a = 1;\nconst b = 2;\nconst c = {;\n` });
  const app = join(dir, 'app.js');
  const outcome = await runCli(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', app], dir);
  assertCleanFailure(outcome, dir, { code: 4, says: [`${app}:3`, /SyntaxError: Unexpected token/] });
});

void test('APP with a syntax error (ES module): the file and the line', async (t) => {
  const dir = project(t, { 'app.mjs': `const a = 1;\nconst b = 2;\nconst c = {;\n` });
  const app = join(dir, 'app.mjs');
  const outcome = await runCli(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', app], dir);
  assertCleanFailure(outcome, dir, {
    code: 4,
    says: [/SyntaxError/, new RegExp(`${app.replace(/\./g, '\\.')}:3\\b`)],
  });
});

void test('an APP that never listens: exit 3 at the boot timeout, saying what it waited for', async (t) => {
  const dir = project(t, { 'app.js': 'setInterval(() => {}, 1000);\n' });
  const outcome = await runCli(
    t,
    ['-w', '2', '-b', '127.0.0.1:0', '--boot-timeout', '1', '--events', join(dir, 'events.ndjson'), 'app.js'],
    dir,
  );
  assertCleanFailure(outcome, dir, { code: 3, says: ['not ready within 1 s', 'listen() on PORT'] });
  assertExitEvent(dir, 3);
});

void test('port already in use', async (t) => {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as net.AddressInfo;
  const { dir, app } = withApp(t);
  const outcome = await runCli(t, ['-w', '1', '-b', `127.0.0.1:${port}`, '--no-reload', app], dir);
  assertCleanFailure(outcome, dir, {
    code: 2,
    oneLine: true,
    says: [`cannot listen on 127.0.0.1:${port}`, 'address already in use', '--bind'],
  });
});

void test('an unknown flag', async (t) => {
  const { dir, app } = withApp(t);
  const outcome = await runCli(t, ['--wokers', '2', app], dir);
  assertCleanFailure(outcome, dir, {
    code: 2,
    oneLine: true,
    says: ["unknown option '--wokers'", 'did you mean --workers?'],
  });
});

for (const [args, says] of [
  [['-w', '0'], "invalid value for -w: got '0', expected a whole number of 1 or more"],
  [['-w', 'abc'], "invalid value for -w: got 'abc', expected a whole number of 1 or more"],
  [['--timeout', '-5'], "invalid value for --timeout: got '-5', expected a number of seconds, 0 or more"],
  [
    ['--graceful-timeout=soon'],
    "invalid value for --graceful-timeout: got 'soon', expected a number of seconds",
  ],
] as const) {
  void test(`invalid option value: ${args.join(' ')}`, async (t) => {
    const { dir, app } = withApp(t);
    const outcome = await runCli(t, [...args, app], dir);
    assertCleanFailure(outcome, dir, { code: 2, oneLine: true, says: [says] });
  });
}

void test('an option with its value missing', async (t) => {
  const dir = project(t);
  // A value is only missing at the end of the line; --events puts the directory in the command line.
  const outcome = await runCli(t, ['--events', join(dir, 'events.ndjson'), '-w'], dir);
  assertCleanFailure(outcome, dir, { code: 2, oneLine: true, says: ['option -w needs a value'] });
});

void test('an invalid bind address', async (t) => {
  const { dir, app } = withApp(t);
  const outcome = await runCli(t, ['-b', '127.0.0.1:70000', app], dir);
  assertCleanFailure(outcome, dir, {
    code: 2,
    oneLine: true,
    says: ["invalid bind address '127.0.0.1:70000'", "port '70000' is not a number from 0 to 65535"],
  });
});

void test('a config file with a syntax error', async (t) => {
  const { dir, app } = withApp(t);
  const config = join(dir, 'bad.config.js');
  writeFileSync(config, `module.exports = {\n  workers: 2,\n  bind: ':0' ':1',\n};\n`);
  const outcome = await runCli(t, ['-c', config, app], dir);
  assertCleanFailure(outcome, dir, {
    code: 2,
    oneLine: true,
    says: ['bad.config.js has a syntax error at line 3'],
  });
});

void test('a config file with an unknown key', async (t) => {
  const { dir, app } = withApp(t);
  const config = join(dir, 'arbiter.config.js');
  writeFileSync(config, `module.exports = { wokers: 2 };\n`);
  // Found on its own in the working directory, and named with -c.
  for (const args of [[app], ['-c', config, app]]) {
    const outcome = await runCli(t, args, dir);
    assertCleanFailure(outcome, dir, {
      code: 2,
      oneLine: true,
      says: ["arbiter.config.js: unknown key 'wokers' (did you mean 'workers'?)"],
    });
  }
});

void test('a config file that does not exist', async (t) => {
  const { dir, app } = withApp(t);
  const config = join(dir, 'missing.config.js');
  const outcome = await runCli(t, ['-c', config, app], dir);
  assertCleanFailure(outcome, dir, {
    code: 2,
    oneLine: true,
    says: [`config file '${config}' does not exist`],
  });
});

void test('--help exits 0 and prints the usage', async (t) => {
  const dir = project(t);
  for (const flag of ['--help', '-h']) {
    const outcome = await runCli(t, [flag], dir);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stderr, '');
    assert.match(outcome.stdout, /^Usage: arbiter \[options\] APP/);
    for (const option of ['--bind', '--workers', '--graceful-timeout', '--no-reload', '--config']) {
      assert.ok(outcome.stdout.includes(option), `--help mentions ${option}`);
    }
  }
});

void test('--version prints the version', async (t) => {
  const dir = project(t);
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-v']) {
    const outcome = await runCli(t, [flag], dir);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stderr, '');
    assert.equal(outcome.stdout, `arbiter ${version}\n`);
  }
});
