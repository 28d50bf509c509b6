import assert from 'node:assert/strict';
import { test } from 'node:test';
import { anotherCopyInTheWay } from '../../runner/arbiter/generations/coexistence';

const TABLE: [string, string[], string | undefined][] = [
  [
    'next dev',
    ['⨯ Another next dev server is already running.', '', '- PID: 1929'],
    '⨯ Another next dev server is already running.',
  ],
  [
    'a port of its own',
    ['Error: listen EADDRINUSE: address already in use :::9229'],
    'Error: listen EADDRINUSE: address already in use :::9229',
  ],
  [
    'a lock file',
    ['Error: could not acquire lock on /tmp/app.lock'],
    'Error: could not acquire lock on /tmp/app.lock',
  ],
  [
    'a bug in the code',
    ['TypeError: Cannot read properties of undefined (reading x)', '    at main.js:3'],
    undefined,
  ],
  ['a syntax error', ['SyntaxError: Unexpected token }'], undefined],
];

for (const [name, lines, expected] of TABLE) {
  test(`another copy in the way: ${name}`, () => assert.equal(anotherCopyInTheWay(lines), expected));
}
