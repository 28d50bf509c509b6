/**
 * What max-requests promises, for any runtime: under load, the worker is replaced by one that
 * is ready before it starts draining, for the max-requests reason, and no request fails.
 */
import assert from 'node:assert/strict';
import type { ArbiterRun } from './arbiter-run';
import { load } from './http';

export async function assertRecycledUnderLoad(run: ArbiterRun, pid: number): Promise<void> {
  const port = await run.port();
  const recycled = run.waitFor('worker.exited', (e) => e.pid === pid);
  const result = await load(port, recycled, 2);
  assert.equal(result.failed, 0, result.errors.slice(0, 3).join(', '));
  const states = run.all('worker.state');
  const replacementReady = states.findIndex((e) => e.state === 'ready' && e.pid !== pid);
  const oldDraining = states.findIndex((e) => e.state === 'draining' && e.pid === pid);
  assert.ok(
    replacementReady !== -1 && replacementReady < oldDraining,
    'replacement ready before the old one drains',
  );
  assert.match(states[oldDraining]!.reason, /max-requests/);
  assert.equal((await recycled).state, 'exited');
}
