/**
 * The extension's tests, run by a real VS Code in its extension host (test/vscode/run-vscode-tests.ts
 * starts it). Each test drives the extension through its commands and reads what a user would
 * see — the tree's rows, Problems — and what the runner reports; every wait is on an event of
 * the server's stream, with a deadline.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import * as vscode from 'vscode';
import type { ArbiterApi } from '../../../extension/extension';
import { markerOf } from '../../../extension/debug/worker-attacher';
import type { ServerSession } from '../../../extension/server/server-session';
import type { TreeNode } from '../../../extension/views/worker-tree';

const DEADLINE_MS = 20_000;
const ANSI_COLOR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const RESULTS = process.env.ARBITER_VSCODE_RESULTS;

function say(line: string): void {
  console.log(`[arbiter-test] ${line}`);
  if (RESULTS) appendFileSync(RESULTS, `${line}\n`);
}

/**
 * Resolves once `check` holds, re-checked on every change of the session (and on `more`
 * events, for checks that read something else); fails at the deadline.
 */
function until(
  session: ServerSession,
  what: string,
  check: () => boolean,
  more: vscode.Event<unknown>[] = [],
): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const subscriptions: vscode.Disposable[] = [];
    const timer = setTimeout(() => {
      for (const subscription of subscriptions) subscription.dispose();
      const output = session.outputSoFar.replace(ANSI_COLOR, '').slice(-2_000);
      reject(new Error(`not within ${DEADLINE_MS} ms: ${what}\n--- the server's last output ---\n${output}`));
    }, DEADLINE_MS);
    const recheck = () => {
      if (!check()) return;
      clearTimeout(timer);
      for (const subscription of subscriptions) subscription.dispose();
      resolve();
    };
    for (const event of [session.onDidChange, ...more]) subscriptions.push(event(recheck));
  });
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

/** `promise`, or a failure naming `what` at the deadline. */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not within ${DEADLINE_MS} ms: ${what}`)), DEADLINE_MS);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Whether a process runs (a zombie does not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Resolves once none of `pids` runs (they are not our children: /proc is asked); fails at the deadline. */
async function gone(pids: number[], what: string): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (pids.some(alive)) {
    if (Date.now() > deadline) throw new Error(`still running after ${DEADLINE_MS} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Resolves once `check` holds for a started debug session; fails at the deadline. */
/**
 * Every debug session running, from the suite's start: a session a test waits for may have
 * started before the test began to wait (a worker's inspector opens while it boots).
 */
const runningSessions = new Set<vscode.DebugSession>();
vscode.debug.onDidStartDebugSession((s) => runningSessions.add(s));
vscode.debug.onDidTerminateDebugSession((s) => runningSessions.delete(s));

function debugSession(
  what: string,
  check: (s: vscode.DebugSession) => boolean,
  /** Whether one that is running already counts, or only one that starts from now on. */
  { running = false } = {},
): Promise<vscode.DebugSession> {
  const already = running ? [...runningSessions].find(check) : undefined;
  if (already) return Promise.resolve(already);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(new Error(`no debug session within ${DEADLINE_MS} ms: ${what}`));
    }, DEADLINE_MS);
    const subscription = vscode.debug.onDidStartDebugSession((s) => {
      if (!check(s)) return;
      clearTimeout(timer);
      subscription.dispose();
      resolve(s);
    });
  });
}

/** Fails if `check` comes to hold within `ms` (what "not killed while paused" promises). */
function holds(session: ServerSession, what: string, bad: () => boolean, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (bad()) return reject(new Error(what));
    const timer = setTimeout(() => {
      subscription.dispose();
      resolve();
    }, ms);
    const subscription = session.onDidChange(() => {
      if (!bad()) return;
      clearTimeout(timer);
      subscription.dispose();
      reject(new Error(what));
    });
  });
}

/**
 * Watches js-debug: whether a breakpoint has bound (js-debug binds it asynchronously, once the
 * script's source map is read), and which session and thread stopped last (the worker's own
 * target session, a child of the attach), so a test can continue exactly that one.
 */
function watchDebugger(): vscode.Disposable & {
  verified: boolean;
  stopped?: { session: vscode.DebugSession; threadId: number };
  onChange: vscode.Event<void>;
} {
  const changed = new vscode.EventEmitter<void>();
  const watcher: ReturnType<typeof watchDebugger> = {
    verified: false,
    onChange: changed.event,
    dispose: () => {
      registration.dispose();
      changed.dispose();
    },
  };
  type Message = {
    type?: string;
    event?: string;
    command?: string;
    body?: { threadId?: number; breakpoint?: { verified?: boolean }; breakpoints?: { verified?: boolean }[] };
  };
  const registration = vscode.debug.registerDebugAdapterTrackerFactory('pwa-node', {
    createDebugAdapterTracker: (session) => ({
      onDidSendMessage(message: Message) {
        if (message.type === 'event' && message.event === 'stopped')
          watcher.stopped = { session, threadId: message.body?.threadId ?? 0 };
        else if (message.type === 'event' && message.event === 'breakpoint')
          watcher.verified ||= message.body?.breakpoint?.verified === true;
        else if (message.type === 'response' && message.command === 'setBreakpoints')
          watcher.verified ||= message.body?.breakpoints?.some((b) => b.verified) === true;
        else return;
        changed.fire();
      },
    }),
  });
  return watcher;
}

/** Resolves once `check` holds, re-checked on `event`; fails at the deadline. */
function when(event: vscode.Event<unknown>, check: () => boolean, what: string): Promise<void> {
  if (check()) return Promise.resolve();
  let subscription: vscode.Disposable | undefined;
  return within(
    new Promise<void>((resolve) => {
      subscription = event(() => {
        if (check()) resolve();
      });
    }),
    what,
  ).finally(() => {
    subscription?.dispose();
  });
}

/** The line of the fixture's breakpoint comment. */
function breakpointAt(uri: vscode.Uri, text = "the debugging tests' breakpoint"): vscode.SourceBreakpoint {
  const lines = readFileSync(uri.fsPath, 'utf8').split('\n');
  const line = lines.findIndex((l) => l.includes(text));
  assert.ok(line >= 0, `${text} in ${uri.fsPath}`);
  return new vscode.SourceBreakpoint(new vscode.Location(uri, new vscode.Position(line, 4)));
}

/** The ready workers of the serving generation, as the tree shows them. */
function treeWorkers(api: ArbiterApi, session: ServerSession): { pid: number; description: string }[] {
  const server = api.tree.getChildren().find((node) => node.kind === 'server' && node.session === session);
  assert.ok(server, 'the server row');
  const generations = api.tree.getChildren(server).filter((node) => node.kind === 'generation');
  const serving = generations.find((node) =>
    api.tree.getTreeItem(node).description?.toString().startsWith('serving'),
  );
  assert.ok(serving, `a serving generation among ${generations.length}`);
  return api.tree
    .getChildren(serving)
    .filter((node): node is Extract<TreeNode, { kind: 'worker' }> => node.kind === 'worker')
    .filter((node) => node.worker.state === 'ready')
    .map((node) => ({ pid: node.worker.pid, description: String(api.tree.getTreeItem(node).description) }));
}

const readyInServing = (session: ServerSession) =>
  session.model.generations.get(session.model.serving)?.workers.filter((w) => w.state === 'ready').length ??
  0;

type Context = {
  api: ArbiterApi;
  /** The folder most tests use; `web` and `storm` are the multi-root workspace's others. */
  folder: vscode.WorkspaceFolder;
  web: vscode.WorkspaceFolder;
  storm: vscode.WorkspaceFolder;
  /** A TypeScript app, for breakpoints through source maps. */
  ts: vscode.WorkspaceFolder;
  /** A Python WSGI app (module:callable). */
  py: vscode.WorkspaceFolder;
  /** The official NestJS starter (test/fixtures/real-apps/nest), installed. */
  nest: vscode.WorkspaceFolder;
  session?: ServerSession;
  spawned: number[];
};

const tests: [string, (context: Context) => Promise<void>][] = [
  [
    'Start Server: the tree shows 2 ready workers with the pids the runner reports, and the app answers',
    async (context) => {
      await vscode.commands.executeCommand('arbiter.startServer', context.folder);
      const session = context.api.manager.sessionFor(context.folder);
      assert.ok(session, 'a session for the folder');
      context.session = session;
      session.onEvent((event) => event.type === 'worker.spawned' && context.spawned.push(event.pid));
      await until(session, '2 ready workers', () => readyInServing(session) === 2);
      const rows = treeWorkers(context.api, session);
      const reported = session.model.generations.get(1)!.workers.map((w) => w.pid);
      assert.deepEqual(rows.map((row) => row.pid).sort(), [...reported].sort());
      for (const row of rows) assert.match(row.description, /^ready · up /);
      assert.match(await get(session.url!), /^hello v1 from \d+$/);
    },
  ],
  [
    'a save in the editor: a new generation serves, the old one shows its shutdown hooks with outcome and duration',
    async ({ api, folder, session }) => {
      assert.ok(session);
      const uri = vscode.Uri.joinPath(folder.uri, 'server.js');
      const document = await vscode.workspace.openTextDocument(uri);
      const edit = new vscode.WorkspaceEdit();
      const text = document.getText();
      const at = text.indexOf(`'v1'`);
      edit.replace(uri, new vscode.Range(document.positionAt(at), document.positionAt(at + 4)), `'v2'`);
      await vscode.workspace.applyEdit(edit);
      await document.save();
      // One save can reach the watcher as two writes tens of ms apart (code-server under load),
      // and then cycles twice: what counts is that a later generation serves the saved code.
      await until(
        session,
        'a new generation serves',
        () => session.model.serving >= 2 && readyInServing(session) === 2,
      );
      const old = session.model.generations.get(1)!;
      await until(session, 'the old workers gone', () => old.workers.every((worker) => worker.exit));
      for (const worker of old.workers) {
        assert.deepEqual(
          worker.hooks.map((hook) => [hook.name, hook.outcome]),
          [['close pool', 'ok']],
        );
        assert.ok(worker.signals.some((signal) => signal.signal === 'SIGTERM'));
      }
      const server = api.tree.getChildren().find((node) => node.kind === 'server')!;
      await until(session, 'the saved code serves', () => session.model.reloads[0]?.phase === 'completed');
      const retired = api.tree
        .getChildren(server)
        .find((node) => node.kind === 'generation' && node.row.generation === 1)!;
      const worker = api.tree.getChildren(retired)[0]!;
      const hookRow = api.tree.getChildren(worker).find((node) => node.kind === 'hook')!;
      assert.match(String(api.tree.getTreeItem(hookRow).description), /^ok in \d+(\.\d)? (ms|s)$/);
      assert.match(await get(session.url!), /^hello v2 /);
    },
  ],
  [
    'a syntax error: a diagnostic at its file and line, the old workers still serve; the fix clears it',
    async ({ folder, session }) => {
      assert.ok(session);
      const uri = vscode.Uri.joinPath(folder.uri, 'server.js');
      const document = await vscode.workspace.openTextDocument(uri);
      const good = document.getText();
      const broken = good.replace(`const VERSION = 'v2';`, `const VERSION = 'v3';;;)`);
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
      await replaceAll(broken);
      await until(session, 'the reload failed', () => session.model.reloads[0]?.phase === 'failed');
      const line = broken.split('\n').findIndex((l) => l.includes(';;;)'));
      const diagnostics = vscode.languages.getDiagnostics(uri);
      assert.equal(diagnostics.length, 1, JSON.stringify(diagnostics));
      assert.equal(diagnostics[0]!.range.start.line, line);
      assert.equal(diagnostics[0]!.source, 'arbiter');
      assert.match(await get(session.url!), /^hello v2 /, 'the old generation still serves');

      await replaceAll(good.replace(`'v2'`, `'v4'`));
      await until(session, 'the fix serves', () => session.model.reloads[0]?.phase === 'completed');
      assert.deepEqual(vscode.languages.getDiagnostics(uri), []);
    },
  ],
  [
    'Add Worker, then Remove Worker: 3, then 2 ready workers',
    async ({ session }) => {
      assert.ok(session);
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
    'Attach Debugger: a js-debug session for the worker; a breakpoint stops a request; paused 5 s with a 2 s heartbeat, it is not killed; Continue completes the request',
    async ({ api, folder, session }) => {
      assert.ok(session);
      const server = api.tree.getChildren().find((n) => n.kind === 'server' && n.session === session)!;
      const serving = api.tree
        .getChildren(server)
        .find((n) => n.kind === 'generation' && n.row.generation === session.model.serving)!;
      const node = api.tree
        .getChildren(serving)
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
        assert.match(String(api.tree.getTreeItem(serving).description), / · 1 paused in the debugger$/);
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
    'multi-root: a second folder gets its own server (an ES module app from package.json main), its own row, and the status bar counts both',
    async ({ api, web, session }) => {
      assert.ok(session);
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
    async ({ api, web }) => {
      const session = api.manager.sessionFor(web)!;
      const [worker] = session.model.liveWorkers();
      assert.ok(worker);
      await vscode.commands.executeCommand('arbiter.showTerminal', { kind: 'server', session });
      const terminal = vscode.window.terminals.find((t) => t.name === 'Arbiter: web');
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
  [
    'Stop Server: every hook shown as run, the arbiter exits 0, no process of it is left',
    async ({ session, spawned }) => {
      assert.ok(session);
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
      const left = [arbiter, ...spawned].filter(alive);
      assert.deepEqual(left, [], 'processes left');
    },
  ],
  [
    'the arbiter debug type: launch → a child session per worker; a save → the new generation is attached, the old sessions end; stopping the parent stops the server',
    async ({ api, folder }) => {
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
        const trace = (await stopped.customRequest('stackTrace', { threadId, levels: 1 })) as {
          stackFrames: { line: number; source?: { path?: string } }[];
        };
        const [top] = trace.stackFrames;
        // VS Code hands the path back as a URI of the remote (code-server) file system.
        assert.equal(
          vscode.Uri.parse(top?.source?.path ?? '').path,
          source.path,
          'the top frame is in the .ts source',
        );
        assert.equal(top?.line, breakpoint.location.range.start.line + 1, 'on the breakpoint line');
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
        const trace = (await stopped.customRequest('stackTrace', { threadId, levels: 1 })) as {
          stackFrames: { line: number; source?: { path?: string } }[];
        };
        const [top] = trace.stackFrames;
        assert.equal(
          vscode.Uri.parse(top?.source?.path ?? '').path,
          source.path,
          'the top frame is the controller',
        );
        assert.equal(top?.line, breakpoint.location.range.start.line + 1, 'on the breakpoint line');
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
      // The toolbar's Disconnect (what an attach session shows instead of Stop).
      await vscode.commands.executeCommand('workbench.action.debug.disconnect', {
        sessionId: first.parent.id,
      });
      await gone1;
      assert.equal(session.process.running, true, 'the server runs on');
      assert.equal(worker.state, 'ready');
      assert.equal(await get(session.url!), `web ${worker.pid}`);

      // Stop (the toolbar's alternative to Disconnect; the API's stopDebugging disconnects an
      // attach session): the server stops, gracefully.
      const second = await attach('Attach (web) again');
      await vscode.commands.executeCommand('workbench.action.debug.stop', { sessionId: second.parent.id });
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
    async ({ api, web }) => {
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
  [
    'Force Stop: the arbiter is killed, its workers end with it, the tree shows none running',
    async ({ api, folder }) => {
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
    'an event storm (2,000 hook events in a second or two): every one reaches the model, the tree redraws at most ~10 times a second',
    async ({ api, storm }) => {
      const session = await api.manager.start(storm);
      assert.ok(session);
      await until(session, '1 ready worker', () => readyInServing(session) === 1);
      const hookEvents: number[] = [];
      const redraws: number[] = [];
      const counting = [
        session.onEvent((event) => event.type === 'hook' && hookEvents.push(performance.now())),
        api.tree.onDidChangeTreeData(() => redraws.push(performance.now())),
      ];
      // How late a 10 ms timer fires meanwhile: the extension host's responsiveness.
      let lastTick = performance.now();
      let worstLag = 0;
      const ticker = setInterval(() => {
        const now = performance.now();
        worstLag = Math.max(worstLag, now - lastTick - 10);
        lastTick = now;
      }, 10);
      try {
        await session.stop();
      } finally {
        clearInterval(ticker);
        for (const subscription of counting) subscription.dispose();
      }
      assert.equal(hookEvents.length, 2000, 'a start and an end for each of the 1,000 hooks');
      const spanMs = hookEvents.at(-1)! - hookEvents[0]!;
      const rate = (hookEvents.length / spanMs) * 1000;
      assert.ok(rate >= 500, `not a storm: ${Math.round(rate)} events/s`);
      const during = redraws.filter((t) => t >= hookEvents[0]! && t <= hookEvents.at(-1)! + 100).length;
      const allowed = Math.ceil(spanMs / 100) + 2;
      assert.ok(during <= allowed, `${during} redraws in ${Math.round(spanMs)} ms (at most ${allowed})`);
      const worker = session.model.generations.get(1)!.workers[0]!;
      assert.equal(worker.hooks.length, 1000);
      assert.ok(worker.hooks.every((hook) => hook.outcome === 'ok'));
      say(
        `storm: ${hookEvents.length} events in ${Math.round(spanMs)} ms (${Math.round(rate)}/s), ${during} tree redraws, worst timer lag ${Math.round(worstLag)} ms`,
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

export async function run(): Promise<void> {
  const extension = vscode.extensions.getExtension<ArbiterApi>('arbiter-dev.arbiter');
  assert.ok(extension, 'the extension is installed');
  const startedAt = performance.now();
  const api = await extension.activate();
  say(
    `activation: ${(api.activation.modulesMs + api.activation.activateMs).toFixed(1)} ms in the extension (modules ${api.activation.modulesMs.toFixed(1)} + activate ${api.activation.activateMs.toFixed(1)}); ${(performance.now() - startedAt).toFixed(1)} ms for VS Code's whole activate() call`,
  );
  const byName = (name: string) => {
    const found = vscode.workspace.workspaceFolders?.find((f) => f.name === name);
    assert.ok(found, `the workspace folder ${name}`);
    return found;
  };
  const context: Context = {
    api,
    folder: byName('api'),
    web: byName('web'),
    storm: byName('storm'),
    ts: byName('ts'),
    py: byName('py'),
    nest: byName('nest'),
    spawned: [],
  };
  let passed = 0;
  let failed = 0;
  const only = process.env.ARBITER_VSCODE_GREP;
  for (const [name, test] of tests) {
    if (only && !name.includes(only)) continue;
    try {
      await test(context);
      passed++;
      say(`ok - ${name}`);
    } catch (error) {
      failed++;
      say(`not ok - ${name}\n${(error as Error).stack ?? String(error)}`);
    }
  }
  await api.manager.stopAll();
  say(`${passed} passed, ${failed} failed`);
  if (failed > 0) throw new Error(`${failed} test(s) failed`);
}
