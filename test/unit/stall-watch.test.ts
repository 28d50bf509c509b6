import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stallReportMs } from '../../runner/worker/stall-watch';

test("a Node worker's stall is read at half its heartbeat timeout, between 1 s and 5 s", () => {
  // heartbeatMs is a quarter of --timeout (boot-message.ts); 0: no heartbeat.
  const table: [heartbeatMs: number, readAfterMs: number][] = [
    [0, 1000],
    [50, 1000], // --timeout 0.2
    [500, 1000], // --timeout 2
    [1000, 2000], // --timeout 4
    [7500, 5000], // --timeout 30, the default
  ];
  for (const [heartbeatMs, expected] of table)
    assert.equal(stallReportMs(heartbeatMs), expected, `${heartbeatMs}`);
});
