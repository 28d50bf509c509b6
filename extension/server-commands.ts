/**
 * The commands, each a few lines over the manager: which server or worker a command is about
 * comes from the tree row it was invoked on, else the only server, else a pick.
 */
import * as vscode from 'vscode';
import { registerCommand } from './commands';
import type { ServerManager } from './server/server-manager';
import type { ServerSession } from './server/server-session';
import { openServerTerminal } from './views/server-terminal';
import type { TreeNode } from './views/worker-tree';

const WORKER_SIGNALS = [
  'SIGTERM',
  'SIGINT',
  'SIGQUIT',
  'SIGHUP',
  'SIGUSR1',
  'SIGUSR2',
  'SIGABRT',
  'SIGKILL',
] as const;

export function registerServerCommands(context: vscode.ExtensionContext, manager: ServerManager): void {
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
    const target = folder ?? (await pickFolder());
    if (target) await manager.start(target);
  });
  registerCommand(context, 'arbiter.stopServer', async (node) => {
    const session = await sessionOf(manager, node);
    if (session) await manager.stop(session);
  });
  registerCommand(context, 'arbiter.forceStop', async (node) => {
    const session = await sessionOf(manager, node);
    // The arbiter's orphan reaper takes every worker down within half a second.
    if (session) session.process.signal('SIGKILL');
  });
  const signalArbiter = (signal: NodeJS.Signals) => async (node?: TreeNode) => {
    (await sessionOf(manager, node))?.process.signal(signal);
  };
  registerCommand(context, 'arbiter.reloadWorkers', signalArbiter('SIGHUP'));
  registerCommand(context, 'arbiter.addWorker', signalArbiter('SIGTTIN'));
  registerCommand(context, 'arbiter.removeWorker', signalArbiter('SIGTTOU'));
  registerCommand(context, 'arbiter.sendSignal', async (node) => {
    const pid = await workerOf(manager, node);
    if (!pid) return;
    const picked = await vscode.window.showQuickPick(
      WORKER_SIGNALS.map((signal) => ({ label: signal, signal })),
      { title: `Signal to worker pid ${pid}` },
    );
    if (picked) sendToWorker(pid, picked.signal);
  });
  registerCommand(context, 'arbiter.killWorker', async (node) => {
    const pid = await workerOf(manager, node);
    if (pid) sendToWorker(pid, 'SIGKILL');
  });
  registerCommand(context, 'arbiter.killGeneration', (node) => {
    if (node?.kind !== 'generation') return;
    for (const worker of node.row.workers) if (!worker.exit) sendToWorker(worker.pid, 'SIGKILL');
  });
  registerCommand(context, 'arbiter.showTerminal', async (node) => {
    const session = await sessionOf(manager, node);
    if (session) showTerminal(session);
  });
  registerCommand(context, 'arbiter.openInBrowser', async (node) => {
    const url = (await sessionOf(manager, node))?.url;
    if (url) await vscode.env.openExternal(vscode.Uri.parse(url));
  });
}

/** A signal straight to a worker: the arbiter sees the outcome (exit, replacement) and reports it. */
function sendToWorker(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    void vscode.window.showWarningMessage(
      `Arbiter: could not signal pid ${pid}: ${(error as Error).message}`,
    );
  }
}

async function pickFolder(): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length <= 1) {
    if (!folders[0]) void vscode.window.showErrorMessage('Arbiter: open a folder to start its server.');
    return folders[0];
  }
  return vscode.window.showWorkspaceFolderPick({ placeHolder: 'Start the server of which folder?' });
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

async function workerOf(manager: ServerManager, node?: TreeNode): Promise<number | undefined> {
  if (node?.kind === 'worker') return node.worker.pid;
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
  return picked?.pid;
}
