import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ThreadStack } from '../../runner/protocol/events';
import {
  baseName,
  innermostAppFrame,
  isAppFile,
  stuckAtText,
  whileInText,
} from '../../runner/protocol/stacks-text';

const frame = (file: string, line: number, fn = 'run', source?: string) => ({
  file,
  line,
  function: fn,
  ...(source ? { source } : {}),
});

test("a file is the app's unless it is a library's or the language's", () => {
  const table: [string, boolean][] = [
    ['/srv/app/flusher.py', true],
    ['/srv/app/src/server.ts', true],
    ['/usr/lib/python3.11/threading.py', false],
    ['/usr/lib/python3/dist-packages/gunicorn/workers/sync.py', false],
    ['/home/u/.venv/lib/python3.12/site-packages/flask/app.py', false],
    ['/srv/app/node_modules/express/lib/router.js', false],
    ['node:internal/timers', false],
    ['<frozen importlib._bootstrap>', false],
    ['', false],
  ];
  for (const [file, app] of table) assert.equal(isAppFile(file), app, file);
});

test('the innermost app frame: the main thread first, then the others; a library frame when no app frame', () => {
  const mainInGunicorn: ThreadStack = {
    name: 'MainThread',
    main: true,
    frames: [frame('/usr/lib/python3.11/selectors.py', 415, 'select')],
  };
  const flusher: ThreadStack = {
    name: 'flusher',
    daemon: false,
    frames: [
      frame('/usr/lib/python3.11/threading.py', 320, 'wait'),
      frame('/srv/app/flusher.py', 12, 'run', 'while not self.cancelled:'),
      frame('/usr/lib/python3.11/threading.py', 1038, '_bootstrap_inner'),
    ],
  };
  const busyMain: ThreadStack = {
    name: 'main',
    main: true,
    frames: [frame('/srv/app/app.js', 29, '', 'for (;;);')],
  };
  const table: [ThreadStack[], string | undefined][] = [
    [[], undefined],
    [[{ name: 'idle', frames: [] }], undefined],
    [[flusher, mainInGunicorn], 'flusher:/srv/app/flusher.py:12'],
    [[flusher, busyMain], 'main:/srv/app/app.js:29'],
    [[mainInGunicorn], 'MainThread:/usr/lib/python3.11/selectors.py:415'],
  ];
  for (const [threads, expected] of table) {
    const at = innermostAppFrame(threads);
    assert.equal(at && `${at.thread.name}:${at.frame.file}:${at.frame.line}`, expected);
  }
});

test('the wording: file:line, the source in backticks, the function, the thread', () => {
  const flusher: ThreadStack = {
    name: 'flusher',
    frames: [frame('/srv/app/flusher.py', 12, 'run', '  while not self.cancelled:')],
  };
  assert.equal(
    stuckAtText({ thread: flusher, frame: flusher.frames[0]! }),
    'flusher.py:12 `while not self.cancelled:` in run() (thread flusher)',
  );
  const anonymous: ThreadStack = { name: 'main', frames: [frame('file:///srv/app/app.js', 29, '')] };
  assert.equal(stuckAtText({ thread: anonymous, frame: anonymous.frames[0]! }), 'app.js:29 (thread main)');
  const module: ThreadStack = {
    name: 'MainThread',
    frames: [frame('/srv/app/boot.py', 3, '<module>', 'x = 1')],
  };
  assert.equal(
    stuckAtText({ thread: module, frame: module.frames[0]! }),
    'boot.py:3 `x = 1` (thread MainThread)',
  );
  const long: ThreadStack = { name: 't', frames: [frame('/a.py', 1, 'f', 'x'.repeat(100))] };
  assert.match(
    stuckAtText({ thread: long, frame: long.frames[0]! }),
    /^a\.py:1 `x{79}…` in f\(\) \(thread t\)$/,
  );
  assert.equal(baseName('file:///srv/app/x.js'), 'x.js');
});

test("a kill's reason: where it was, or why that is not known, or nothing", () => {
  const flusher: ThreadStack = {
    name: 'flusher',
    frames: [frame('/srv/app/flusher.py', 12, 'run', 'while not self.cancelled:')],
  };
  assert.equal(
    whileInText([flusher]),
    'while in flusher.py:12 `while not self.cancelled:` in run() (thread flusher)',
  );
  assert.equal(whileInText([], 'no answer within 300 ms'), '(its stack: no answer within 300 ms)');
  assert.equal(whileInText([]), '');
});
