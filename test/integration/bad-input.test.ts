/**
 * The CLI given bad input: each case must end with a non-zero exit code, one clear message
 * naming the bad value and what was expected, no stack trace, and no process left behind.
 */
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { CLI, ROOT } from '../support/arbiter-run';
import { parseEvent, type ArbiterEvent, type EventOf } from '../../runner/protocol/events';

const DEADLINE_MS = 15_000;
/** What the logger puts before each line: time and source. */
const LOG_PREFIX = /^\d{2}:\d{2}:\d{2}\.\d{3} \[(?:arbiter|worker)[^\]]*\] ?/;
const FRAME = /^\s+at /m;

type Outcome = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

/** A fresh directory holding `files`; its path appears in the command line of every run that uses it. */
function project(t: TestContext, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-bad-input-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Runs the built CLI to its end; kills it and fails if it is still running after the deadline. */
function runCli(t: TestContext, args: readonly string[], cwd: string): Promise<Outcome> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // 'close', not 'exit': all output has been read by then.
  const closed = new Promise<Outcome>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await closed.catch(() => undefined);
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`arbiter ${args.join(' ')} still running after ${DEADLINE_MS} ms\n${stdout}${stderr}`),
      );
    }, DEADLINE_MS);
  });
  return Promise.race([closed, deadline]).finally(() => clearTimeout(timer));
}

/** The lines of the output with the logger's prefix removed, empty lines dropped. */
function messageLines(outcome: Outcome): string[] {
  return `${outcome.stdout}${outcome.stderr}`
    .split('\n')
    .map((line) => line.replace(LOG_PREFIX, ''))
    .filter((line) => line.trim() !== '');
}

/** Command lines of the processes still running that mention `dir`. */
function processesMentioning(dir: string): string[] {
  const table = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return table.split('\n').filter((line) => line.includes(dir));
}

type Expectation = {
  /** The exact exit code, when it is specified. */
  code?: number;
  /** What the message must say: the bad value and what was expected. */
  says: (string | RegExp)[];
  /** Usage errors are a single line; boot failures tell a short story. */
  oneLine?: boolean;
  /** The app's own frames may be shown for an error it threw (never Node's or the arbiter's). */
  userFramesIn?: string;
};

function assertCleanFailure(outcome: Outcome, dir: string, expect: Expectation): void {
  const all = `${outcome.stdout}${outcome.stderr}`;
  const context = `--- output ---\n${all}`;
  assert.equal(outcome.signal, null, `ended by a signal\n${context}`);
  assert.notEqual(outcome.code, 0, `exit code 0\n${context}`);
  if (expect.code !== undefined) assert.equal(outcome.code, expect.code, `exit code\n${context}`);
  assert.doesNotMatch(all, FRAME, `a raw stack trace\n${context}`);
  assert.doesNotMatch(all, /internal error/, context);
  const lines = messageLines(outcome);
  for (const line of lines.filter((l) => FRAME.test(l))) {
    assert.ok(
      expect.userFramesIn !== undefined && line.includes(expect.userFramesIn) && !/node:|runner/.test(line),
      `a stack frame in the message: ${line}\n${context}`,
    );
  }
  if (expect.oneLine) assert.equal(lines.length, 1, `one line\n${context}`);
  const text = lines.join('\n');
  for (const part of expect.says) {
    if (typeof part === 'string')
      assert.ok(text.includes(part), `the message says ${JSON.stringify(part)}\n${context}`);
    else assert.match(text, part, context);
  }
  assert.deepEqual(processesMentioning(dir), [], `processes of this run are left\n${context}`);
}

/** The events the run wrote to `dir`/events.ndjson; the last one must be arbiter.exited with `code`. */
function assertExitEvent(dir: string, code: number | null): ArbiterEvent[] {
  const events = readFileSync(join(dir, 'events.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const parsed = parseEvent(line);
      assert.ok(parsed.ok, line);
      return parsed.value;
    });
  const last = events.at(-1);
  assert.ok(last?.type === 'arbiter.exited', `last event: ${JSON.stringify(last)}`);
  assert.equal(last.code, code);
  return events;
}

const SERVER = `require('node:http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);\n`;

/** A directory with a working app, for the cases where only the options are wrong. */
function withApp(t: TestContext): { dir: string; app: string } {
  const dir = project(t, { 'app.js': SERVER });
  return { dir, app: join(dir, 'app.js') };
}

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
