/** A Python app (WSGI, `module:callable`) in the tree: ready, reloaded on save, its atexit hook shown. */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { get, gone, readyInServing, treeWorkers, until, within, type Test } from './support';

export const python: Test[] = [
  [
    "a Python app (module:callable): its worker is shown ready, a save reloads it and shows the old worker's atexit hook run, Attach Debugger names what is missing",
    async ({ api, py }) => {
      await vscode.commands.executeCommand('arbiter.startServer', py);
      const session = api.manager.sessionFor(py);
      assert.ok(session, 'a session for the Python folder');
      await until(session, '1 ready worker', () => readyInServing(session) === 1);
      const [row] = treeWorkers(api, session);
      assert.match(row?.description ?? '', /^ready · up /);
      assert.match(await get(session.url!), /^py v1 \d+$/);

      const [first] = session.model.liveWorkers();
      const generation = session.model.serving + 1;
      const uri = vscode.Uri.joinPath(py.uri, 'app.py');
      const document = await vscode.workspace.openTextDocument(uri);
      const edit = new vscode.WorkspaceEdit();
      const at = document.getText().indexOf('VERSION = "v1"');
      edit.replace(
        uri,
        new vscode.Range(document.positionAt(at), document.positionAt(at + 14)),
        'VERSION = "v2"',
      );
      await vscode.workspace.applyEdit(edit);
      await document.save();
      await until(
        session,
        'the new generation serves',
        () => session.model.serving >= generation && readyInServing(session) === 1,
      );
      await until(session, 'the old worker exited', () => first!.exit !== undefined);
      assert.deepEqual(
        first!.hooks.map((h) => [h.name, h.outcome]),
        [['atexit close_pool', 'ok']],
      );
      assert.match(await get(session.url!), /^py v2 \d+$/);

      const [second] = session.model.liveWorkers();
      await assert.rejects(
        api.attacher.attach(session, second!.pid),
        /debugpy listens on 127\.0\.0\.1:\d+, but attaching needs the Python Debugger extension \(ms-python\.debugpy\)/,
      );
      const pids = [session.process.pid!, second!.pid];
      await vscode.commands.executeCommand('arbiter.stopServer', { kind: 'server', session });
      assert.equal((await within(session.exited, 'the Python server exits')).code, 0);
      await gone(pids, 'the Python server and its worker');
    },
  ],
];
