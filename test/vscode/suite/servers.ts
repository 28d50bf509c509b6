/**
 * A server's life from the editor: Start Server, a save that cycles it, a syntax error that
 * does not, Add and Remove Worker, Stop Server, Force Stop, and the window going away.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import {
  alive,
  get,
  gone,
  nextVersion,
  noServer,
  readyInServing,
  serving,
  treeWorkers,
  until,
  versionIn,
  type Test,
} from './support';

export const servers: Test[] = [
  [
    'Start Server: the tree shows 2 ready workers with the pids the runner reports, and the app answers',
    async (context) => {
      await noServer(context, context.folder);
      const version = versionIn(
        await vscode.workspace.openTextDocument(vscode.Uri.joinPath(context.folder.uri, 'server.js')),
      );
      await vscode.commands.executeCommand('arbiter.startServer', context.folder);
      const session = context.api.manager.sessionFor(context.folder);
      assert.ok(session, 'a session for the folder');
      await until(session, '2 ready workers', () => readyInServing(session) === 2);
      const rows = treeWorkers(context.api, session);
      const reported = session.model.generations.get(1)!.workers.map((w) => w.pid);
      assert.deepEqual(rows.map((row) => row.pid).sort(), [...reported].sort());
      for (const row of rows) assert.match(row.description, /^ready · up /);
      assert.match(await get(session.url!), new RegExp(`^hello ${version} from \\d+$`));
    },
  ],
  [
    'a save in the editor: a new generation serves, the old one shows its shutdown hooks with outcome and duration',
    async (context) => {
      const { api, folder } = context;
      const session = await serving(context, folder, 2);
      const uri = vscode.Uri.joinPath(folder.uri, 'server.js');
      const document = await vscode.workspace.openTextDocument(uri);
      // Edited from what the file says now (v1 in a fresh workspace), whatever ran before.
      const before = versionIn(document);
      const after = nextVersion(before);
      const old = session.model.generations.get(session.model.serving)!;
      const edit = new vscode.WorkspaceEdit();
      const text = document.getText();
      const at = text.indexOf(`'${before}'`);
      edit.replace(
        uri,
        new vscode.Range(document.positionAt(at), document.positionAt(at + before.length + 2)),
        `'${after}'`,
      );
      await vscode.workspace.applyEdit(edit);
      await document.save();
      // One save can reach the watcher as two writes tens of ms apart (code-server under load),
      // and then cycles twice: what counts is that a later generation serves the saved code.
      await until(
        session,
        'a new generation serves',
        () => session.model.serving > old.generation && readyInServing(session) === 2,
      );
      await until(session, 'the old workers gone', () => old.workers.every((worker) => worker.exit));
      for (const worker of old.workers) {
        assert.deepEqual(
          worker.hooks.map((hook) => [hook.name, hook.outcome]),
          [['close pool', 'ok']],
        );
        assert.ok(worker.signals.some((signal) => signal.signal === 'SIGTERM'));
      }
      const server = api.tree
        .getChildren()
        .find((node) => node.kind === 'server' && node.session === session)!;
      await until(session, 'the saved code serves', () => session.model.reloads[0]?.phase === 'completed');
      const retired = api.tree
        .getChildren(server)
        .find((node) => node.kind === 'generation' && node.row.generation === old.generation)!;
      const worker = api.tree.getChildren(retired)[0]!;
      const hookRow = api.tree.getChildren(worker).find((node) => node.kind === 'hook')!;
      assert.match(String(api.tree.getTreeItem(hookRow).description), /^ok in \d+(\.\d)? (ms|s)$/);
      assert.match(await get(session.url!), new RegExp(`^hello ${after} `));
    },
  ],
  [
    'a syntax error: a diagnostic at its file and line, the old workers still serve; the fix clears it',
    async (context) => {
      const { folder } = context;
      const session = await serving(context, folder, 2);
      const uri = vscode.Uri.joinPath(folder.uri, 'server.js');
      const document = await vscode.workspace.openTextDocument(uri);
      const good = document.getText();
      // What serves now (v2 after the save test), broken as the next version, fixed as the one after.
      const version = versionIn(document);
      const broken = good.replace(
        `const VERSION = '${version}';`,
        `const VERSION = '${nextVersion(version)}';;;)`,
      );
      const fixed = good.replace(`'${version}'`, `'${nextVersion(nextVersion(version))}'`);
      // The arbiter's: the TypeScript server, once it runs (any test that opened a .js or .ts
      // file starts it), adds its own hints to the same file.
      const arbiterDiagnostics = () =>
        vscode.languages.getDiagnostics(uri).filter((diagnostic) => diagnostic.source === 'arbiter');
      const replaceAll = async (text: string) => {
        const edit = new vscode.WorkspaceEdit();
        edit.replace(
          uri,
          new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length)),
          text,
        );
        await vscode.workspace.applyEdit(edit);
        await document.save();
      };
      try {
        await replaceAll(broken);
        // One save can reach the watcher as a truncate and, tens of ms later, the write: the empty
        // file's cycle fails (it never listens) or is superseded; the broken code's fails at its line.
        await until(
          session,
          'the reload failed at the file',
          () =>
            session.model.reloads[0]?.phase === 'failed' &&
            session.model.reloads[0].error?.file !== undefined,
        );
        const line = broken.split('\n').findIndex((l) => l.includes(';;;)'));
        const diagnostics = arbiterDiagnostics();
        assert.equal(diagnostics.length, 1, JSON.stringify(vscode.languages.getDiagnostics(uri)));
        assert.equal(diagnostics[0]!.range.start.line, line);
        assert.equal(diagnostics[0]!.source, 'arbiter');
        assert.match(
          await get(session.url!),
          new RegExp(`^hello ${version} `),
          'the old generation still serves',
        );

        await replaceAll(fixed);
        await until(session, 'the fix serves', () => session.model.reloads[0]?.phase === 'completed');
        assert.deepEqual(arbiterDiagnostics(), []);
      } finally {
        // A failure on the way leaves no broken file to the tests after this one.
        if (document.getText().includes(';;;)')) await replaceAll(fixed);
      }
    },
  ],
  [
    'Add Worker, then Remove Worker: 3, then 2 ready workers',
    async (context) => {
      const session = await serving(context, context.folder, 2);
      await vscode.commands.executeCommand('arbiter.addWorker');
      await until(
        session,
        '3 ready',
        () => readyInServing(session) === 3 && session.model.targetWorkers === 3,
      );
      await vscode.commands.executeCommand('arbiter.removeWorker');
      await until(
        session,
        '2 ready',
        () => readyInServing(session) === 2 && session.model.targetWorkers === 2,
      );
    },
  ],
  [
    'Stop Server: every hook shown as run, the arbiter exits 0, no process of it is left',
    async (context) => {
      const session = await serving(context, context.folder, 2);
      const arbiter = session.process.pid!;
      await vscode.commands.executeCommand('arbiter.stopServer');
      const exit = await session.exited;
      assert.equal(exit.code, 0);
      for (const worker of session.model.liveWorkers())
        assert.fail(`worker ${worker.pid} still live in the model`);
      const hooks = [...session.model.generations.values()].flatMap((g) => g.workers.flatMap((w) => w.hooks));
      assert.ok(hooks.length > 0);
      assert.deepEqual(
        hooks.filter((hook) => hook.outcome !== 'ok'),
        [],
      );
      const left = [arbiter, ...context.spawned(session)].filter(alive);
      assert.deepEqual(left, [], 'processes left');
    },
  ],
  [
    'Force Stop: the arbiter is killed, its workers end with it, the tree shows none running',
    async (context) => {
      const { api, folder } = context;
      await noServer(context, folder);
      const session = await api.manager.start(folder);
      assert.ok(session);
      await until(session, '2 ready workers', () => readyInServing(session) === 2);
      const pids = [session.process.pid!, ...session.model.liveWorkers().map((w) => w.pid)];
      await vscode.commands.executeCommand('arbiter.forceStop');
      assert.equal((await session.exited).signal, 'SIGKILL');
      await gone(pids, 'the arbiter and its workers');
      assert.deepEqual(session.model.liveWorkers(), []);
      assert.match(
        session.model.generations.get(1)!.workers[0]!.exit!.reason,
        /^ended with the arbiter, which was killed by SIGKILL$/,
      );
    },
  ],
  [
    'the window going away (deactivate): every server stops, no process is left',
    async ({ api, folder }) => {
      const session = await api.manager.start(folder);
      assert.ok(session);
      await until(session, '2 ready workers', () => readyInServing(session) === 2);
      const pids = [session.process.pid!, ...session.model.liveWorkers().map((w) => w.pid)];
      await api.manager.stopAll();
      assert.equal((await session.exited).code, 0);
      assert.deepEqual(pids.filter(alive), []);
    },
  ],
];
