/**
 * The commands, each a few lines over the manager: which server or worker a command is about
 * comes from the tree row it was invoked on, else the only server, else a pick.
 */
import * as vscode from 'vscode';
import { WORKER_SIGNALS } from '../runner/protocol/commands';
import { registerCommand } from './commands';
import type { WorkerAttacher } from './debug/worker-attacher';
import { runDrill } from './drill/run-drill';
import { CLI, folderLaunch } from './server/folder-launch';
import type { ServerManager } from './server/server-manager';
import type { ServerSession } from './server/server-session';
import { openServerTerminal } from './views/server-terminal';
import { TimelinePanel } from './views/timeline-panel';
import type { TimelineFocus } from './views/timeline-view';
import type { TreeNode } from './views/worker-tree';

/** Why, as the tree and the server's log will say it. */
const FROM_EDITOR = 'asked from VS Code';

export function registerServerCommands(
  context: vscode.ExtensionContext,
  manager: ServerManager,
  attacher: WorkerAttacher,
): void {
  const terminals = new Map<ServerSession, vscode.Terminal>();
  const showTerminal = (session: ServerSession) => {
    let terminal = terminals.get(session);
    if (!terminal || terminal.exitStatus) {
      terminal = openServerTerminal(session);
      terminals.set(session, terminal);
    }
    terminal.show(true);
  };
  context.subscriptions.push(
    manager.onDidStart((session) => showTerminal(session)),
    vscode.window.onDidCloseTerminal((closed) => {
      for (const [session, terminal] of terminals) if (terminal === closed) terminals.delete(session);
    }),
  );

  registerCommand(context, 'arbiter.startServer', async (folder) => {
    const target = folder ?? (await pickFolder('Start the server of which folder?'));
    if (target) await manager.start(target);
  });
  const drilling = new Set<string>();
  registerCommand(context, 'arbiter.runDrill', async (folder) => {
    const target = folder ?? (await pickFolder('Drill the shutdown of which folder?'));
    if (!target) return undefined;
    const key = target.uri.toString();
    if (drilling.has(key))
      return void vscode.window.showInformationMessage(
        `Arbiter: a drill of ${target.name} is running already.`,
      );
    const launch = await folderLaunch(target, context.workspaceState, {}, { bind: false });
    if (!launch) return undefined;
    drilling.add(key);
    try {
      // The extension's own storage for the workspace: the report is no file of the project's.
      const storage = context.storageUri ?? context.globalStorageUri;
      return await runDrill(
        target,
        { ...launch, cli: CLI },
        vscode.Uri.joinPath(storage, 'drill', target.name),
      );
    } finally {
      drilling.delete(key);
    }
  });
  registerCommand(context, 'arbiter.stopServer', async (node) => {
    await (await sessionOf(manager, node))?.stop();
  });
  registerCommand(context, 'arbiter.forceStop', async (node) => {
    await (await sessionOf(manager, node))?.forceStop();
  });
  const signalArbiter = (signal: NodeJS.Signals) => async (node?: TreeNode) => {
    (await sessionOf(manager, node))?.process.signal(signal);
  };
  registerCommand(context, 'arbiter.reloadWorkers', signalArbiter('SIGHUP'));
  registerCommand(context, 'arbiter.addWorker', signalArbiter('SIGTTIN'));
  registerCommand(context, 'arbiter.removeWorker', signalArbiter('SIGTTOU'));
  registerCommand(context, 'arbiter.sendSignal', async (node) => {
    const target = await workerOf(manager, node);
    if (!target) return;
    const picked = await vscode.window.showQuickPick(
      WORKER_SIGNALS.map((signal) => ({ label: signal, description: SIGNAL_MEANINGS[signal], signal })),
      { title: `Signal to worker pid ${target.pid}` },
    );
    if (picked)
      target.session.process.command({
        type: 'signal-worker',
        pid: target.pid,
        signal: picked.signal,
        reason: `${picked.signal} ${FROM_EDITOR}`,
      });
  });
  registerCommand(context, 'arbiter.killWorker', async (node) => {
    const target = await workerOf(manager, node);
    target?.session.process.command({
      type: 'signal-worker',
      pid: target.pid,
      signal: 'SIGKILL',
      reason: `Kill Worker ${FROM_EDITOR}`,
    });
  });
  registerCommand(context, 'arbiter.killGeneration', (node) => {
    if (node?.kind !== 'generation') return;
    node.session.process.command({
      type: 'kill-generation',
      generation: node.row.generation,
      reason: `Kill Now ${FROM_EDITOR}`,
    });
  });
  registerCommand(context, 'arbiter.attachDebugger', async (node) => {
    const target = await workerOf(manager, node);
    if (!target) return;
    try {
      await attacher.attach(target.session, target.pid);
    } catch (error) {
      void vscode.window.showErrorMessage(`Arbiter: ${(error as Error).message}`);
    }
  });
  registerCommand(context, 'arbiter.attachAll', async (node) => {
    const session = await sessionOf(manager, node);
    if (session) attacher.follow(session);
  });
  registerCommand(context, 'arbiter.showTerminal', async (node) => {
    const session = await sessionOf(manager, node);
    if (session) showTerminal(session);
  });
  registerCommand(context, 'arbiter.openTimeline', async (node) => {
    // A server that exited still has its last minutes to show: any session, not only running ones.
    const session = node?.session ?? (await anySession(manager));
    if (session) TimelinePanel.show(session, timelineFocus(node));
  });
  context.subscriptions.push(
    { dispose: () => TimelinePanel.close() },
    manager.onDidStart((session) => TimelinePanel.restarted(session)),
  );
  registerCommand(context, 'arbiter.openInBrowser', async (node) => {
    const url = (await sessionOf(manager, node))?.url;
    if (url) await vscode.env.openExternal(vscode.Uri.parse(url));
  });
}

/** What each signal does to a worker, for the pick. */
const SIGNAL_MEANINGS: Record<(typeof WORKER_SIGNALS)[number], string> = {
  SIGTERM: 'graceful stop: drain, run hooks; a replacement boots',
  SIGINT: 'quick stop: run hooks now; a replacement boots',
  SIGQUIT: 'quick stop: run hooks now; a replacement boots',
  SIGHUP: "delivered as is: the app's own handler, if any",
  SIGUSR2: "delivered as is: the app's own handler, if any",
  SIGABRT: 'abort: a core dump where enabled, then a replacement',
  SIGKILL: 'kill now: hooks do not run; a replacement boots',
};

async function pickFolder(placeHolder: string): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length <= 1) {
    if (!folders[0]) void vscode.window.showErrorMessage('Arbiter: open a folder with an app first.');
    return folders[0];
  }
  return vscode.window.showWorkspaceFolderPick({ placeHolder });
}

async function sessionOf(manager: ServerManager, node?: TreeNode): Promise<ServerSession | undefined> {
  if (node) return node.session;
  const running = manager.sessions().filter((session) => session.process.running);
  if (running.length <= 1) {
    if (!running[0]) void vscode.window.showInformationMessage('Arbiter: no server is running.');
    return running[0];
  }
  const picked = await vscode.window.showQuickPick(
    running.map((session) => ({ label: session.folder.name, session })),
    { placeHolder: 'Which server?' },
  );
  return picked?.session;
}

async function workerOf(
  manager: ServerManager,
  node?: TreeNode,
): Promise<{ session: ServerSession; pid: number } | undefined> {
  if (node?.kind === 'worker') return { session: node.session, pid: node.worker.pid };
  const session = await sessionOf(manager, node);
  const workers = session?.model.liveWorkers() ?? [];
  const picked = await vscode.window.showQuickPick(
    workers.map((worker) => ({
      label: `worker ${worker.id}`,
      description: `pid ${worker.pid} · generation ${worker.generation} · ${worker.state}`,
      pid: worker.pid,
    })),
    { placeHolder: 'Which worker?' },
  );
  return session && picked ? { session, pid: picked.pid } : undefined;
}

/** What a timeline opened from a tree row is about: that reload, that worker's generation, or all. */
function timelineFocus(node?: TreeNode): TimelineFocus {
  switch (node?.kind) {
    case 'reload':
      return { kind: 'reload', generation: node.reload.generation };
    case 'worker':
    case 'signal':
    case 'hook':
    case 'held':
    case 'request':
    case 'stack':
      return { kind: 'worker', pid: node.worker.pid };
    case 'generation':
      return node.row.workers[0] ? { kind: 'worker', pid: node.row.workers[0].pid } : { kind: 'all' };
    case 'server':
    case 'reloads':
    case undefined:
      return { kind: 'all' };
  }
}

async function anySession(manager: ServerManager): Promise<ServerSession | undefined> {
  const sessions = manager.sessions();
  if (sessions.length <= 1) {
    if (!sessions[0])
      void vscode.window.showInformationMessage('Arbiter: no server has run yet in this window.');
    return sessions[0];
  }
  const picked = await vscode.window.showQuickPick(
    sessions.map((session) => ({ label: session.folder.name, session })),
    { placeHolder: 'The timeline of which server?' },
  );
  return picked?.session;
}
