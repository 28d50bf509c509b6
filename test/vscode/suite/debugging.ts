/**
 * Debugging the workers: Attach Debugger on a tree row, the `arbiter` debug type (launch and
 * attach, across reloads, and what its Stop and Disconnect do), and breakpoints that bind
 * through source maps — a TypeScript app's and the NestJS starter's.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { markerOf } from '../../../extension/debug/worker-attacher';
import { breakpointAt, debugSession, topFrame, watchDebugger } from './debug-support';
import {
  alive,
  get,
  gone,
  holds,
  noServer,
  readyInServing,
  serving,
  until,
  when,
  within,
  type Test,
} from './support';

export const debugging: Test[] = [
  [
    'Attach Debugger: a js-debug session for the worker; a breakpoint stops a request; paused 5 s with a 2 s heartbeat, it is not killed; Continue completes the request',
    async (context) => {
      const { api, folder } = context;
      const session = await serving(context, folder, 2);
      const server = api.tree.getChildren().find((n) => n.kind === 'server' && n.session === session)!;
      const servingRow = api.tree
        .getChildren(server)
        .find((n) => n.kind === 'generation' && n.row.generation === session.model.serving)!;
      const node = api.tree
        .getChildren(servingRow)
        .find((n) => n.kind === 'worker' && n.worker.state === 'ready');
      assert.ok(node?.kind === 'worker');
      const pid = node.worker.pid;
      const attached = debugSession(`attached to ${pid}`, (s) => markerOf(s)?.pid === pid);
      await vscode.commands.executeCommand('arbiter.attachDebugger', node);
      const debug = await attached;
      assert.equal(debug.type, 'pwa-node');
      const breakpoint = breakpointAt(vscode.Uri.joinPath(folder.uri, 'server.js'));
      const watcher = watchDebugger();
      vscode.debug.addBreakpoints([breakpoint]);
      try {
        // Requests until one reaches the attached worker (two workers share the socket) and the
        // breakpoint, bound by now, stops it.
        const requests: Promise<string>[] = [];
        const paused = until(
          session,
          'the worker paused at the breakpoint',
          () => node.worker.paused === true,
        );
        const sender = setInterval(() => requests.push(get(session.url!)), 200);
        await paused.finally(() => clearInterval(sender));
        await holds(
          session,
          'the paused worker was stopped or killed',
          () => node.worker.state !== 'ready',
          5_000,
        );
        const row = api.tree.getTreeItem(node);
        assert.match(String(row.description), /^ready · paused in the debugger: its deadlines wait/);
        assert.equal((row.iconPath as vscode.ThemeIcon).id, 'debug-pause');
        assert.match(String(api.tree.getTreeItem(servingRow).description), / · 1 paused in the debugger$/);
        // Requests queued while it was stopped would stop at the breakpoint again.
        vscode.debug.removeBreakpoints([breakpoint]);
        const { session: stopped, threadId } = watcher.stopped!;
        await stopped.customRequest('continue', { threadId });
        await until(session, 'resumed', () => node.worker.paused === false);
        const bodies = await within(Promise.all(requests), 'every request answered');
        assert.ok(
          bodies.some((body) => body.endsWith(`from ${pid}`)),
          'the stopped request completed',
        );
        assert.equal(node.worker.state, 'ready');
      } finally {
        watcher.dispose();
        vscode.debug.removeBreakpoints([breakpoint]);
        await vscode.debug.stopDebugging(debug);
      }
      assert.ok(alive(pid), 'detaching leaves the worker running');
    },
  ],
  [
    'the arbiter debug type: launch → a child session per worker; a save → the new generation is attached, the old sessions end; stopping the parent stops the server',
    async (context) => {
      const { api, folder } = context;
      await noServer(context, folder);
      const parentStarted = debugSession('the arbiter session', (s) => s.type === 'arbiter');
      const attachedPids = new Set<number>();
      const ended = new Set<number>();
      const subscriptions = [
        vscode.debug.onDidStartDebugSession((s) => {
          const marker = markerOf(s);
          if (marker && s.configuration.request === 'attach') attachedPids.add(marker.pid);
        }),
        vscode.debug.onDidTerminateDebugSession((s) => {
          const marker = markerOf(s);
          if (marker && (s.configuration as Record<string, unknown>).__arbiterWorker) ended.add(marker.pid);
        }),
      ];
      try {
        assert.ok(
          await vscode.debug.startDebugging(folder, { type: 'arbiter', request: 'launch', name: 'Arbiter' }),
        );
        const parent = await parentStarted;
        const session = api.manager.sessionFor(folder)!;
        await until(session, '2 ready workers', () => readyInServing(session) === 2);
        const first = session.model.generations.get(session.model.serving)!.workers.map((w) => w.pid);
        const debugEvents = [vscode.debug.onDidStartDebugSession, vscode.debug.onDidTerminateDebugSession];
        await until(
          session,
          'both workers attached',
          () => first.every((pid) => attachedPids.has(pid)),
          debugEvents,
        );

        const generation = session.model.serving + 1;
        const uri = vscode.Uri.joinPath(folder.uri, 'server.js');
        const document = await vscode.workspace.openTextDocument(uri);
        const edit = new vscode.WorkspaceEdit();
        const at = document.getText().indexOf(`const VERSION = '`) + `const VERSION = '`.length;
        edit.insert(uri, document.positionAt(at), 'd');
        await vscode.workspace.applyEdit(edit);
        await document.save();
        await until(
          session,
          'the new generation serves',
          () => session.model.serving === generation && readyInServing(session) === 2,
        );
        const second = session.model.generations.get(generation)!.workers.map((w) => w.pid);
        await until(
          session,
          'the new workers attached',
          () => second.every((pid) => attachedPids.has(pid)),
          debugEvents,
        );
        await until(
          session,
          'the old sessions ended',
          () => first.every((pid) => ended.has(pid)),
          debugEvents,
        );

        const arbiter = session.process.pid!;
        await vscode.debug.stopDebugging(parent);
        assert.equal((await session.exited).code, 0);
        await gone([arbiter, ...second], 'the server and its workers');
      } finally {
        for (const subscription of subscriptions) subscription.dispose();
      }
    },
  ],
  [
    'a TypeScript app: a breakpoint in the .ts source binds through the source maps, stops a request there, and Continue completes it; Stop while it is stopped there stops the server gracefully',
    async ({ api, ts }) => {
      const parentStarted = debugSession('the arbiter session', (s) => s.type === 'arbiter');
      assert.ok(
        await vscode.debug.startDebugging(ts, { type: 'arbiter', request: 'launch', name: 'Arbiter (ts)' }),
      );
      const parent = await parentStarted;
      const session = api.manager.sessionFor(ts)!;
      await until(session, '1 ready worker', () => readyInServing(session) === 1);
      const [worker] = session.model.liveWorkers();
      assert.ok(worker);
      const attached = debugSession(`attached to ${worker.pid}`, (s) => markerOf(s)?.pid === worker.pid);
      const source = vscode.Uri.joinPath(ts.uri, 'server.ts');
      const breakpoint = breakpointAt(source);
      const watcher = watchDebugger();
      try {
        await attached;
        vscode.debug.addBreakpoints([breakpoint]);
        await when(watcher.onChange, () => watcher.verified, 'the breakpoint bound in server.ts');
        const request = get(session.url!);
        await when(watcher.onChange, () => watcher.stopped !== undefined, 'the request stopped');
        await until(session, 'the worker shown paused', () => worker.paused === true);
        const { session: stopped, threadId } = watcher.stopped!;
        const top = await topFrame(watcher.stopped!);
        assert.equal(top.path, source.path, 'the top frame is in the .ts source');
        assert.equal(top.line, breakpoint.location.range.start.line + 1, 'on the breakpoint line');
        vscode.debug.removeBreakpoints([breakpoint]);
        await stopped.customRequest('continue', { threadId });
        assert.match(await within(request, 'the stopped request answered'), /^hello from ts \d+$/);
        await until(session, 'resumed', () => worker.paused === false);

        // Stopped again, then the developer stops the whole session: the debugger lets go of the
        // worker, which finishes its request and its stop like any other.
        watcher.stopped = undefined;
        watcher.verified = false;
        vscode.debug.addBreakpoints([breakpoint]);
        await when(watcher.onChange, () => watcher.verified, 'the breakpoint bound again');
        const second = get(session.url!);
        await when(watcher.onChange, () => watcher.stopped !== undefined, 'the second request stopped');
        await until(session, 'the worker shown paused again', () => worker.paused === true);
        const pids = [session.process.pid!, worker.pid];
        // What the toolbar's Stop does while stopped: it acts on the stopped worker's session,
        // whose lifecycle VS Code hands up to the parent.
        await vscode.debug.stopDebugging(watcher.stopped!.session);
        assert.equal((await within(session.exited, 'the server exits')).code, 0);
        assert.match(await within(second, 'the second request answered'), /^hello from ts \d+$/);
        assert.equal(worker.state, 'exited');
        await gone(pids, 'the ts server and its worker');
      } finally {
        watcher.dispose();
        vscode.debug.removeBreakpoints([breakpoint]);
        await vscode.debug.stopDebugging(parent); // on a failure, the server stops with it
      }
    },
  ],
  [
    'the NestJS starter: a breakpoint in its controller binds through swc and esbuild maps, stops GET / there, and Continue answers through constructor injection',
    async ({ api, nest }) => {
      const parentStarted = debugSession('the arbiter session', (s) => s.type === 'arbiter');
      assert.ok(
        await vscode.debug.startDebugging(nest, {
          type: 'arbiter',
          request: 'launch',
          name: 'Arbiter (nest)',
          app: 'src/main.ts',
          workers: 1,
        }),
      );
      const parent = await parentStarted;
      const session = api.manager.sessionFor(nest)!;
      const watcher = watchDebugger();
      const source = vscode.Uri.joinPath(nest.uri, 'src', 'app.controller.ts');
      const breakpoint = breakpointAt(source, 'return this.appService.getHello();');
      try {
        await until(session, '1 ready worker', () => readyInServing(session) === 1);
        const [worker] = session.model.liveWorkers();
        assert.ok(worker);
        await debugSession(`attached to ${worker.pid}`, (s) => markerOf(s)?.pid === worker.pid, {
          running: true,
        });
        vscode.debug.addBreakpoints([breakpoint]);
        await when(watcher.onChange, () => watcher.verified, 'the breakpoint bound in app.controller.ts');
        const request = get(session.url!);
        await when(watcher.onChange, () => watcher.stopped !== undefined, 'GET / stopped');
        const { session: stopped, threadId } = watcher.stopped!;
        const top = await topFrame(watcher.stopped!);
        assert.equal(top.path, source.path, 'the top frame is the controller');
        assert.equal(top.line, breakpoint.location.range.start.line + 1, 'on the breakpoint line');
        vscode.debug.removeBreakpoints([breakpoint]);
        await stopped.customRequest('continue', { threadId });
        assert.equal(await within(request, 'GET / answered'), 'Hello World!');
      } finally {
        watcher.dispose();
        vscode.debug.removeBreakpoints([breakpoint]);
        await vscode.debug.stopDebugging(parent);
      }
      try {
        assert.equal((await within(session.exited, 'the server exits')).code, 0);
      } catch (error) {
        throw new Error(
          `${(error as Error).message}\n--- its output ---\n${session.outputSoFar.slice(-3000)}`,
        );
      }
    },
  ],
  [
    'the arbiter debug type, attach: it follows a server already running; Disconnect leaves the server serving; Stop stops it gracefully',
    async ({ api, web }) => {
      const session = await api.manager.start(web);
      assert.ok(session);
      await until(session, '1 ready worker', () => readyInServing(session) === 1);
      const [worker] = session.model.liveWorkers();
      assert.ok(worker);
      const attach = async (name: string) => {
        const parent = debugSession(`the ${name} session`, (s) => s.type === 'arbiter' && s.name === name);
        const child = debugSession(
          `${name}: attached to ${worker.pid}`,
          (s) => markerOf(s)?.pid === worker.pid,
        );
        assert.ok(await vscode.debug.startDebugging(web, { type: 'arbiter', request: 'attach', name }));
        return { parent: await parent, child: await child };
      };
      const ended = (s: vscode.DebugSession) =>
        within(
          new Promise<void>((resolve) => {
            const subscription = vscode.debug.onDidTerminateDebugSession((t) => {
              if (t.id !== s.id) return;
              subscription.dispose();
              resolve();
            });
          }),
          `the session ${s.name} ended`,
        );

      const first = await attach('Attach (web)');
      const gone1 = Promise.all([ended(first.parent), ended(first.child)]);
      // The toolbar's Disconnect (what an attach session shows instead of Stop). The session is
      // the command's second argument, as the toolbar passes it: without it (or as the first,
      // which the command ignores) it acts on the focused session, whichever that is by now.
      await vscode.commands.executeCommand('workbench.action.debug.disconnect', undefined, {
        sessionId: first.parent.id,
      });
      await gone1;
      assert.equal(session.process.running, true, 'the server runs on');
      assert.equal(worker.state, 'ready');
      assert.equal(await get(session.url!), `web ${worker.pid}`);

      // Stop (the toolbar's alternative to Disconnect; the API's stopDebugging disconnects an
      // attach session): the server stops, gracefully.
      const second = await attach('Attach (web) again');
      await vscode.commands.executeCommand('workbench.action.debug.stop', undefined, {
        sessionId: second.parent.id,
      });
      await until(
        session,
        'a graceful stop, the 60 s hook running',
        () => worker.state === 'draining' && worker.hooks.some((h) => h.outcome === 'running'),
      );
      await vscode.commands.executeCommand('arbiter.forceStop');
      await within(session.exited, 'the forced stop');
      await gone([worker.pid], 'the web worker');
    },
  ],
  [
    'the arbiter debug type, launch: Stop stops the server gracefully, a second Stop forces it',
    async (context) => {
      const { api, web } = context;
      await noServer(context, web);
      const parentStarted = debugSession('the arbiter session', (s) => s.type === 'arbiter');
      assert.ok(
        await vscode.debug.startDebugging(web, { type: 'arbiter', request: 'launch', name: 'Arbiter (web)' }),
      );
      const parent = await parentStarted;
      const session = api.manager.sessionFor(web)!;
      await until(session, '1 ready worker', () => readyInServing(session) === 1);
      const [worker] = session.model.liveWorkers();
      assert.ok(worker);
      await vscode.debug.stopDebugging(parent);
      await until(
        session,
        'a graceful stop, the 60 s hook running',
        () => worker.state === 'draining' && worker.hooks.some((h) => h.outcome === 'running'),
      );
      await vscode.debug.stopDebugging(parent);
      const exit = await within(session.exited, 'the forced stop');
      assert.equal(exit.signal, 'SIGKILL', 'the second Stop forces');
      await gone([worker.pid], 'the web worker');
    },
  ],
];
