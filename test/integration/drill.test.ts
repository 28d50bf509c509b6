/**
 * `arbiter drill` (issue 16, part 4): on the example app it passes — no request failed or cut,
 * every hook ran, nothing left open, exit 0, both reports written; on an app that leaks a
 * connection it fails with exit 1 and names the leak. Real runs of the built CLI, a real TCP
 * server for the leak.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import type { DrillReport } from '../../runner/drill/drill-report';
import { project, runCli } from '../support/cli-outcome';
import { PYTHON, noPythonPackages, python, pythonApp } from '../support/real-python-apps';

const EXAMPLE = resolve(__dirname, '../../examples/hello');

test('the drill on the example app: 0 failed, 0 cut, every hook ok, the reports written, exit 0', async (t) => {
  const reports = project(t);
  const outcome = await runCli(
    t,
    ['drill', '--reloads', '3', '--seed', '7', '--report-dir', reports, 'server.js'],
    EXAMPLE,
  );
  assert.equal(outcome.code, 0, outcome.stdout + outcome.stderr);
  assert.match(outcome.stdout, /\*\*Passed\*\*: nothing was lost or left open/);
  const report = JSON.parse(readFileSync(join(reports, 'arbiter-drill.json'), 'utf8')) as DrillReport;
  assert.deepEqual(report.problems, []);
  assert.equal(report.seed, 7);
  assert.deepEqual(
    report.runs.map((run) => [run.stop, run.exitCode, run.failed]),
    [
      ['graceful', 0, 0],
      ['ctrl-c', 0, 0],
      ['quick', 0, 0],
    ],
  );
  assert.equal(report.reloads.completed, 3);
  assert.ok(report.requests.ok > 0, 'the load was answered');
  assert.ok(report.requests.keptAlive > 0, 'half the clients keep their connection alive');
  const goodbye = report.hooks.find((hook) => hook.name === 'say goodbye');
  assert.ok(goodbye && goodbye.outcomes.ok === goodbye.runs, JSON.stringify(report.hooks));
  const markdown = readFileSync(join(reports, 'arbiter-drill.md'), 'utf8');
  assert.match(markdown, /^# Shutdown drill: /);
  assert.match(markdown, /\d+ on kept-alive connections, \d+ of them sent again on a fresh connection/);
});

test(
  "the drill on a Python app (Flask's tutorial flaskr, gunicorn's serving code): passes, exit 0",
  { skip: noPythonPackages('flask', 'gunicorn') },
  async (t) => {
    const dir = pythonApp(t, 'flaskr');
    await python(dir, ['-m', 'flask', '--app', 'flaskr', 'init-db']);
    const reports = project(t);
    const outcome = await runCli(
      t,
      [
        'drill',
        '--reloads',
        '3',
        '--seed',
        '7',
        '--report-dir',
        reports,
        '--python',
        PYTHON,
        'flaskr:create_app()',
      ],
      dir,
    );
    assert.equal(outcome.code, 0, outcome.stdout + outcome.stderr);
    const report = JSON.parse(readFileSync(join(reports, 'arbiter-drill.json'), 'utf8')) as DrillReport;
    assert.deepEqual(report.problems, []);
    assert.equal(report.reloads.completed, 3);
    assert.ok(report.requests.ok > 0, 'the load was answered');
    assert.deepEqual(report.leftOpen, []);
  },
);

test('the drill on an app that never closes its connection: exit 1, the leak named', async (t) => {
  const peer = net.createServer(() => undefined);
  await new Promise<void>((done) => peer.listen(0, '127.0.0.1', done));
  t.after(() => {
    peer.close();
    for (const socket of connections) socket.destroy();
  });
  const connections = new Set<net.Socket>();
  peer.on('connection', (socket) => connections.add(socket));
  const { port } = peer.address() as net.AddressInfo;
  const dir = project(t, {
    'server.js': [
      `const net = require('node:net');`,
      // Opened at boot and never closed: the worker exits after its stop with it still open.
      `net.connect(${port}, '127.0.0.1');`,
      `require('node:http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);`,
    ].join('\n'),
  });
  const args = [
    'drill',
    '--reloads',
    '0',
    '--report-dir',
    dir,
    '-w',
    '1',
    '--graceful-timeout',
    '0.5',
    'server.js',
  ];
  const outcome = await runCli(t, args, dir);
  assert.equal(outcome.code, 1, outcome.stdout + outcome.stderr);
  assert.match(outcome.stdout, /\*\*Failed\*\*/);
  assert.match(
    outcome.stdout,
    new RegExp(`left open at exit: 1 connection to (?:\\S+ )?127\\.0\\.0\\.1:${port}`),
  );
});

test('the drill refuses what it cannot do in one line: a bind of its own, no APP', async (t) => {
  const dir = project(t);
  const bind = await runCli(t, ['drill', '-b', '0.0.0.0:8000', 'server.js'], dir);
  assert.equal(bind.code, 2);
  assert.match(
    bind.stderr,
    /arbiter drill binds 127\.0\.0\.1 on a free port itself \(loopback only\): leave out --bind/,
  );
  const none = await runCli(t, ['drill', '--reloads', '2'], dir);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /name the APP to drill/);
  const misplaced = await runCli(t, ['drill', '-w', '1', '--reloads', '2', 'server.js'], dir);
  assert.equal(misplaced.code, 2);
  assert.match(misplaced.stderr, /--reloads is the drill's: put the drill's options before the arbiter's/);
});
