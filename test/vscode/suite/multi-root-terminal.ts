/**
 * More than one server in the window: a second folder's own server, row and status bar count;
 * and a server's terminal, where Ctrl+C climbs the arbiter's ladder.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { get, gone, readyInServing, serving, until, type Test } from './support';

export const multiRootAndTerminal: Test[] = [
  [
    'multi-root: a second folder gets its own server (an ES module app from package.json main), its own row, and the status bar counts both',
    async (context) => {
      const { api, web } = context;
      const session = await serving(context, context.folder, 2);
      await vscode.commands.executeCommand('arbiter.startServer', web);
      const second = api.manager.sessionFor(web);
      assert.ok(second && second !== session);
      await until(second, '1 ready worker', () => readyInServing(second) === 1);
      const rows = api.tree.getChildren().filter((node) => node.kind === 'server');
      assert.deepEqual(
        rows.map((node) => node.session.folder.name),
        ['api', 'web'],
      );
      assert.notEqual(second.url, session.url);
      assert.match(await get(second.url!), /^web \d+$/);
      assert.match(api.statusBar.text, /2\/2 · gen \d+ \(\+1\)$/);
    },
  ],
  [
    "Ctrl+C in the server's terminal climbs the ladder: graceful stop (the hook runs), quick stop, kill; exit code 1",
    async (context) => {
      const session = await serving(context, context.web, 1);
      const [worker] = session.model.liveWorkers();
      assert.ok(worker);
      await vscode.commands.executeCommand('arbiter.showTerminal', { kind: 'server', session });
      // The newest of that name: a server of the folder that ran before keeps its own terminal.
      const terminal = vscode.window.terminals.filter((t) => t.name === 'Arbiter: web').at(-1);
      assert.ok(terminal, 'the server terminal');
      terminal.sendText('\x03', false);
      await until(
        session,
        'graceful stop, the hook running',
        () => worker.state === 'draining' && worker.hooks.some((h) => h.outcome === 'running'),
      );
      assert.equal(session.model.arbiterSignals[0]?.signal, 'SIGINT');
      terminal.sendText('\x03', false);
      await until(session, 'quick stop', () => worker.signals.some((s) => /^quick stop/.test(s.reason)));
      terminal.sendText('\x03', false);
      const exit = await session.exited;
      assert.equal(exit.code, 1, 'the third Ctrl+C kills: exit code 1');
      assert.equal(worker.state, 'killed');
      assert.deepEqual(
        worker.hooks.map((h) => [h.name, h.outcome]),
        [['drain queue', 'killed']],
      );
      assert.equal(session.stopAsked, true, 'no "stopped unexpectedly" notice for a stop the user asked for');
      await gone([worker.pid], 'the web worker');
    },
  ],
];
