/**
 * The attach configuration the extension starts for a worker (a Python one: the Python
 * Debugger's `debugpy` attach on the worker's debugpy port; a Node one: js-debug on V8's
 * inspector), and the pause decision its tracker makes from the adapter's messages.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attachConfiguration, isDebugpy, MARKER_KEY } from '../../extension/debug/attach-configuration';
import { pausedBy } from '../../extension/debug/pause-state';

const worker = { pid: 4242, id: 3, generation: 2 };
const folder = 'file:///home/someone/site';

test('a Python worker (debugpy, tcp://): a debugpy attach to 127.0.0.1 and its port, justMyCode, marked with the worker', () => {
  const inspector = { port: 5678, url: 'tcp://127.0.0.1:5678' };
  assert.equal(isDebugpy(inspector), true);
  assert.deepEqual(attachConfiguration(folder, worker, inspector, '/ext'), {
    type: 'debugpy',
    request: 'attach',
    name: 'worker 3 · pid 4242 (generation 2)',
    connect: { host: '127.0.0.1', port: 5678 },
    justMyCode: true,
    [MARKER_KEY]: { folder, pid: 4242, id: 3, generation: 2 },
  });
});

test("a Node worker (V8's inspector, ws://): js-debug's node attach, never reconnecting, the runner's own files skipped", () => {
  const inspector = { port: 9229, url: 'ws://127.0.0.1:9229/abc' };
  assert.equal(isDebugpy(inspector), false);
  const configuration = attachConfiguration(folder, worker, inspector, '/ext');
  assert.equal(configuration.type, 'node');
  assert.equal(configuration.request, 'attach');
  assert.equal(configuration.address, '127.0.0.1');
  assert.equal(configuration.port, 9229);
  assert.equal(configuration.restart, false);
  assert.deepEqual(configuration.skipFiles, ['<node_internals>/**', '/ext/out/runner/**']);
  assert.deepEqual(configuration[MARKER_KEY], { folder, ...worker });
  // An inspector reported without a URL is V8's too.
  assert.equal(attachConfiguration(folder, worker, { port: 9229 }, '/ext').type, 'node');
});

test('the pause decision: stopped pauses, continued resumes, anything else says nothing', () => {
  for (const [message, paused] of [
    [{ type: 'event', event: 'stopped' }, true],
    [{ type: 'event', event: 'continued' }, false],
    [{ type: 'event', event: 'output' }, undefined],
    [{ type: 'event', event: 'thread' }, undefined],
    [{ type: 'response', command: 'continue', success: true }, undefined],
    [{ type: 'request', command: 'pause' }, undefined],
  ] as const) {
    assert.equal(pausedBy(message), paused, JSON.stringify(message));
  }
});
