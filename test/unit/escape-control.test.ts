import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeControl } from '../../runner/log/escape-control';

test('escapes C0 (but tab and newline), DEL and C1; leaves the rest as it is', () => {
  assert.equal(escapeControl('evil\x1b]0;pwned\x07.js'), 'evil\\x1b]0;pwned\\x07.js');
  assert.equal(escapeControl('clear\x1b[2J'), 'clear\\x1b[2J');
  assert.equal(escapeControl('csi\x9b6n del\x7f nul\x00 cr\r'), 'csi\\x9b6n del\\x7f nul\\x00 cr\\x0d');
  assert.equal(escapeControl('tab\there\nnext line'), 'tab\there\nnext line');
  assert.equal(escapeControl('ünïcødé → ok ✓'), 'ünïcødé → ok ✓');
  // The same text twice: the global regex keeps no state between calls.
  assert.equal(escapeControl('a\x1bb'), 'a\\x1bb');
  assert.equal(escapeControl('a\x1bb'), 'a\\x1bb');
});
