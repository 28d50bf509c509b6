/**
 * Config values and config code that get past the first checks: a timeout Node cannot time, a
 * config that rejects, throws from a getter or never settles, a hook that never settles. Each
 * bad input is one line and exit 2; every stop still runs onExit and ends the event stream.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { startArbiter } from '../support/arbiter-run';
import { assertCleanFailure, project, runCli, SERVER, withApp } from '../support/cli-outcome';

for (const flag of [
  '--timeout',
  '--boot-timeout',
  '--graceful-timeout',
  '--quick-timeout',
  '--long-lived-grace',
]) {
  test(`${flag} beyond what a timer can count (24 days) is refused, not taken as 1 ms`, async (t) => {
    const { dir, app } = withApp(t);
    const outcome = await runCli(t, [flag, '3000000', '--no-reload', app], dir);
    assertCleanFailure(outcome, dir, {
      code: 2,
      oneLine: true,
      says: [`invalid value for ${flag}: got '3000000'`, 'up to 2147483'],
    });
  });
}

test('a config-file timeout beyond 24 days is refused the same way', async (t) => {
  const dir = project(t, {
    'app.js': SERVER,
    'arbiter.config.js': 'module.exports = { gracefulTimeout: 1e10 };\n',
  });
  const outcome = await runCli(t, ['--no-reload', 'app.js'], dir);
  assertCleanFailure(outcome, dir, {
    code: 2,
    oneLine: true,
    says: ['gracefulTimeout: got 10000000000', 'up to 2147483'],
  });
});

for (const [what, config, says] of [
  [
    'an async config function that rejects',
    `module.exports = async () => { throw new Error('no secrets in the vault'); };\n`,
    [/arbiter\.config\.js: its exported function failed: Error: no secrets in the vault/],
  ],
  [
    'a config whose getter throws',
    `module.exports = { get workers() { throw new Error('not computed'); } };\n`,
    [/arbiter\.config\.js: reading workers failed: Error: not computed/],
  ],
] as const) {
  test(`${what}: one line, exit 2`, async (t) => {
    const dir = project(t, { 'app.js': SERVER, 'arbiter.config.js': config });
    const outcome = await runCli(t, ['--no-reload', 'app.js'], dir);
    assertCleanFailure(outcome, dir, { code: 2, oneLine: true, says: [...says] });
  });
}

test('a config function that never settles: one line after 10 s, exit 2 (not a silent exit 0)', async (t) => {
  const dir = project(t, {
    'app.js': SERVER,
    'arbiter.config.js': `module.exports = () => new Promise(() => {});\n`,
  });
  const outcome = await runCli(t, ['--no-reload', 'app.js'], dir);
  assertCleanFailure(outcome, dir, {
    code: 2,
    oneLine: true,
    says: ['arbiter.config.js: its exported function did not settle within 10 s'],
  });
});

test('an onReload hook that never settles, then TERM: the hook is reported, onExit runs, arbiter.exited ends the stream', async (t) => {
  const dir = project(t, {
    'app.js': SERVER,
    'arbiter.config.js': [
      `module.exports = {`,
      `  onReload() { return new Promise(() => {}); },`,
      `  onExit() { require('node:fs').writeFileSync(${JSON.stringify(join('DIR', 'exited'))}.replace('DIR', __dirname), 'yes'); },`,
      `};`,
      ``,
    ].join('\n'),
  });
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'app.js'], { cwd: dir });
  await run.ready(1);
  run.signal('SIGHUP');
  await run.waitFor('hook', (e) => e.name === 'onReload' && e.phase === 'start');
  run.signal('SIGTERM');
  assert.equal((await run.waitExit()).code, 0, run.output);
  const ended = run.all('hook').filter((e) => e.phase === 'end');
  assert.deepEqual(
    ended.map((e) => [e.name, e.outcome]),
    [
      ['onReload', 'timeout'],
      ['onExit', 'ok'],
    ],
  );
  assert.match(ended[0]!.error ?? '', /still running when the arbiter stopped/);
  assert.equal(run.events.at(-1)?.type, 'arbiter.exited');
});
