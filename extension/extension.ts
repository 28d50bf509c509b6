/**
 * The composition root: builds the services and wires them; every piece lives in its own
 * file. `activate` returns the API the extension tests drive.
 */
import * as vscode from 'vscode';
import { ArbiterDebugAdapter, trackChildSessions } from './debug/arbiter-debug-adapter';
import { registerDebugConfigurations } from './debug/debug-configurations';
import { trackPauses } from './debug/pause-tracker';
import { WorkerAttacher } from './debug/worker-attacher';
import { registerServerCommands } from './server-commands';
import { ServerManager } from './server/server-manager';
import { ReloadDiagnostics } from './views/reload-diagnostics';
import { StatusBar } from './views/status-bar';
import { WorkerTree } from './views/worker-tree';

export type ArbiterApi = {
  manager: ServerManager;
  tree: WorkerTree;
  diagnostics: ReloadDiagnostics;
  statusBar: StatusBar;
  attacher: WorkerAttacher;
  /** What activation costs the extension itself, in ms: evaluating its modules, then `activate`. */
  activation: { modulesMs: number; activateMs: number };
};

/**
 * Set by the bundle's first and last lines (scripts/build.mjs): how long evaluating its modules
 * took. VS Code's own time between loading the module and calling `activate` is not ours.
 */
declare const ARBITER_BUNDLE_START: number | undefined;
declare const ARBITER_BUNDLE_END: number | undefined;
/** Read once activate runs: the last line of the bundle has run by then. */
const modulesMs = () =>
  typeof ARBITER_BUNDLE_START === 'number' && typeof ARBITER_BUNDLE_END === 'number'
    ? ARBITER_BUNDLE_END - ARBITER_BUNDLE_START
    : NaN;

let manager: ServerManager | undefined;

export function activate(context: vscode.ExtensionContext): ArbiterApi {
  const activateStart = performance.now();
  manager = new ServerManager(context.workspaceState);
  const tree = new WorkerTree(() => manager!.sessions());
  const statusBar = new StatusBar();
  const diagnostics = new ReloadDiagnostics();
  const treeView = vscode.window.createTreeView('arbiter.workers', {
    treeDataProvider: tree,
    showCollapseAll: true,
  });
  context.subscriptions.push(
    manager,
    tree,
    statusBar,
    diagnostics,
    treeView,
    manager.onDidChange(() => {
      tree.schedule();
      statusBar.update(manager!.sessions());
    }),
    manager.onDidStart((session) => {
      // Held by the session's own emitter, so it goes with the session (a listener in the
      // context's subscriptions would stay for the window's life, one per server started).
      session.onEvent((event) => diagnostics.onEvent(event));
      // A server just started: show its workers, as starting a debug session shows Run and Debug.
      if (!treeView.visible) void vscode.commands.executeCommand('workbench.view.extension.arbiter');
    }),
  );
  const attacher = new WorkerAttacher(context.extensionPath);
  context.subscriptions.push(
    attacher,
    trackPauses(manager),
    trackChildSessions(),
    registerDebugConfigurations(),
    vscode.debug.registerDebugAdapterDescriptorFactory('arbiter', {
      createDebugAdapterDescriptor: (session) =>
        new vscode.DebugAdapterInlineImplementation(new ArbiterDebugAdapter(session, manager!, attacher)),
    }),
  );
  registerServerCommands(context, manager, attacher);
  return {
    manager,
    tree,
    diagnostics,
    statusBar,
    attacher,
    activation: { modulesMs: modulesMs(), activateMs: performance.now() - activateStart },
  };
}

/** The window closes or reloads: every server stops gracefully, its hooks run, nothing is left. */
export async function deactivate(): Promise<void> {
  await manager?.stopAll();
}
