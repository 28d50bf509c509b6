import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs } from '../../runner/cli/parse-args';
import { UsageError } from '../../runner/errors/usage-error';

/** Asserts that parsing `argv` fails with a UsageError whose message matches every pattern. */
function rejects(argv: string[], ...patterns: RegExp[]): string {
  let message = '';
  assert.throws(
    () => parseArgs(argv),
    (error: unknown) => {
      assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
      message = error.message;
      return true;
    },
    `parseArgs(${JSON.stringify(argv)}) should throw`,
  );
  for (const pattern of patterns) assert.match(message, pattern, `message for ${JSON.stringify(argv)}`);
  return message;
}

void test('nothing given: no settings, no app', () => {
  assert.deepEqual(parseArgs([]), { settings: {}, help: false, version: false, appArgs: [] });
});

void test('every way of writing a value gives the same setting', () => {
  const table: [argv: string[], settings: Record<string, unknown>][] = [
    [['--workers', '4'], { workers: 4 }],
    [['--workers=4'], { workers: 4 }],
    [['-w', '4'], { workers: 4 }],
    [['-w4'], { workers: 4 }],
    [['--bind', '127.0.0.1:0'], { bind: ['127.0.0.1:0'] }],
    [['--bind=unix:/tmp/a.sock'], { bind: ['unix:/tmp/a.sock'] }],
    [['-b', ':9000'], { bind: [':9000'] }],
    [['-b:9000'], { bind: [':9000'] }],
    [['--timeout', '0'], { timeout: 0 }],
    [['--timeout=2.5'], { timeout: 2.5 }],
    [['--graceful-timeout', '10'], { gracefulTimeout: 10 }],
    [['--boot-timeout', '0.5'], { bootTimeout: 0.5 }],
    [['--quick-timeout', '1'], { quickTimeout: 1 }],
    [['--max-requests', '100', '--max-requests-jitter', '10'], { maxRequests: 100, maxRequestsJitter: 10 }],
    [['--events', '/tmp/e.ndjson'], { events: ['/tmp/e.ndjson'] }],
  ];
  for (const [argv, settings] of table) {
    assert.deepEqual(parseArgs(argv).settings, settings, argv.join(' '));
  }
});

void test('--reload and --no-reload', () => {
  const table: [argv: string[], reload: boolean | undefined][] = [
    [[], undefined],
    [['--reload'], true],
    [['--no-reload'], false],
    [['--reload=false'], false],
    [['--reload=true'], true],
    [['--reload=0'], false],
    [['--reload=1'], true],
    [['--no-reload', '--reload'], true],
    [['--reload', '--no-reload'], false],
  ];
  for (const [argv, reload] of table) assert.equal(parseArgs(argv).settings.reload, reload, argv.join(' '));
});

void test('a boolean flag does not take the next argument as its value', () => {
  const parsed = parseArgs(['--no-reload', 'false']);
  assert.equal(parsed.settings.reload, false);
  assert.equal(parsed.settings.app, 'false');
});

void test('--no-reload=true is refused or negated, never read as --reload', () => {
  let reload: boolean | undefined;
  try {
    reload = parseArgs(['--no-reload=true']).settings.reload;
  } catch (error) {
    assert.ok(error instanceof UsageError);
    return;
  }
  assert.equal(reload, false);
});

void test('an invalid boolean value names the flag', () => {
  rejects(['--reload=maybe'], /--reload/, /'maybe'/, /true or false/);
});

void test('-b is repeatable and accumulates in order; other options: last one wins', () => {
  const parsed = parseArgs(['-b', '127.0.0.1:1', '--bind=unix:/tmp/x', '-b[::1]:3', '-w', '1', '-w', '3']);
  assert.deepEqual(parsed.settings.bind, ['127.0.0.1:1', 'unix:/tmp/x', '[::1]:3']);
  assert.equal(parsed.settings.workers, 3);
  assert.deepEqual(parseArgs(['--events', 'a', '--events', 'b']).settings.events, ['a', 'b']);
});

void test('--config, -c, --help, -h, --version, -v', () => {
  assert.equal(parseArgs(['--config', 'a.js']).configFile, 'a.js');
  assert.equal(parseArgs(['--config=b.ts']).configFile, 'b.ts');
  assert.equal(parseArgs(['-c', 'c.mjs']).configFile, 'c.mjs');
  assert.equal(parseArgs(['-cd.js']).configFile, 'd.js');
  assert.equal(parseArgs(['--help']).help, true);
  assert.equal(parseArgs(['-h']).help, true);
  assert.equal(parseArgs(['--version']).version, true);
  assert.equal(parseArgs(['-v']).version, true);
  const plain = parseArgs(['app.js']);
  assert.equal(plain.help, false);
  assert.equal(plain.version, false);
  assert.equal(plain.configFile, undefined);
});

void test('options stop at APP: everything after it belongs to the app', () => {
  const parsed = parseArgs(['-w', '2', 'server.js', '--workers', '9', '-b', 'x', '--', '--port=3']);
  assert.equal(parsed.settings.app, 'server.js');
  assert.equal(parsed.settings.workers, 2);
  assert.equal(parsed.settings.bind, undefined);
  assert.deepEqual(parsed.appArgs, ['--workers', '9', '-b', 'x', '--', '--port=3']);
  // An unknown flag after APP is the app's business, not an error.
  assert.deepEqual(parseArgs(['app.js', '--wokers']).appArgs, ['--wokers']);
});

void test('-- ends the options: what follows is APP and its arguments, even when it looks like a flag', () => {
  const table: [argv: string[], app: string | undefined, appArgs: string[]][] = [
    [['--', 'app.js', '-w', '3'], 'app.js', ['-w', '3']],
    [['-w', '2', '--', '--weird-name.js'], '--weird-name.js', []],
    [['--', '--', 'x'], '--', ['x']],
    [['-w', '2', '--'], undefined, []],
    [['-'], '-', []],
  ];
  for (const [argv, app, appArgs] of table) {
    const parsed = parseArgs(argv);
    assert.equal(parsed.settings.app, app, argv.join(' '));
    assert.deepEqual(parsed.appArgs, appArgs, argv.join(' '));
  }
  assert.equal(parseArgs(['-w', '2', '--', 'app.js']).settings.workers, 2);
});

void test('an unknown option is refused with a "did you mean" when it is close to a real one', () => {
  const table: [argv: string[], suggestion: string][] = [
    [['--wokers', '2'], '--workers'],
    [['--worker=2'], '--workers'],
    [['--graceful-timout', '3'], '--graceful-timeout'],
    [['--no-relaod'], '--no-reload'],
    [['--bnd', ':0'], '--bind'],
    [['--verison'], '--version'],
  ];
  for (const [argv, suggestion] of table) {
    const name = argv[0]!.split('=')[0]!;
    const message = rejects(argv, /unknown option/, /arbiter --help/);
    assert.ok(message.includes(`'${name}'`), `${message} names ${name}`);
    assert.ok(message.includes(`did you mean ${suggestion}?`), `${message} suggests ${suggestion}`);
  }
});

void test('an unknown option far from every real one gets no suggestion', () => {
  const message = rejects(['--frobnicate-everything'], /unknown option '--frobnicate-everything'/);
  assert.doesNotMatch(message, /did you mean/);
});

void test('a missing value names the option', () => {
  for (const flag of ['-w', '--workers', '-b', '--timeout', '--graceful-timeout', '-c', '--config']) {
    rejects(['--no-reload', flag], new RegExp(`option ${flag} needs a value`));
  }
});

void test('an invalid value names the option, the value and what was expected', () => {
  const table: [argv: string[], flag: string, value: string, expected: RegExp][] = [
    [['-w', '0'], '-w', '0', /a whole number of 1 or more/],
    [['-w', 'abc'], '-w', 'abc', /a whole number of 1 or more/],
    [['-wabc'], '-w', 'abc', /a whole number of 1 or more/],
    [['--workers=1.5'], '--workers', '1.5', /a whole number of 1 or more/],
    [['--workers='], '--workers', '', /a whole number of 1 or more/],
    [['-w', '-3'], '-w', '-3', /a whole number of 1 or more/],
    [['--timeout', '-1'], '--timeout', '-1', /a number of seconds, 0 or more/],
    [['--timeout', ' '], '--timeout', ' ', /a number of seconds, 0 or more/],
    [['--graceful-timeout', 'abc'], '--graceful-timeout', 'abc', /a number of seconds, 0 or more/],
    [['--boot-timeout', '0'], '--boot-timeout', '0', /a number of seconds greater than 0/],
    [['--quick-timeout', 'Infinity'], '--quick-timeout', 'Infinity', /a number of seconds, 0 or more/],
    [['--max-requests', '-1'], '--max-requests', '-1', /a whole number of 0 or more/],
    [['--max-requests-jitter', '2x'], '--max-requests-jitter', '2x', /a whole number of 0 or more/],
    [['-b', ''], '-b', '', /non-empty string/],
  ];
  for (const [argv, flag, value, expected] of table) {
    const message = rejects(argv, expected);
    assert.ok(message.startsWith(`invalid value for ${flag}: `), `${message} names ${flag}`);
    if (value) assert.ok(message.includes(`'${value}'`), `${message} names the value '${value}'`);
  }
});

void test('the first bad option is reported even when APP and valid options surround it', () => {
  rejects(['-b', ':0', '-w', '0', 'app.js'], /invalid value for -w: got '0'/);
});
