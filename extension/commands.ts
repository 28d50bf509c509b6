/**
 * Every command the extension contributes, in one typed map (id → the argument it takes), with
 * typed register/execute wrappers: no command id is spelled anywhere else.
 */
import * as vscode from 'vscode';
import type { TreeNode } from './views/worker-tree';

export type CommandArgs = {
  'arbiter.startServer': [folder?: vscode.WorkspaceFolder];
  'arbiter.stopServer': [node?: TreeNode];
  'arbiter.forceStop': [node?: TreeNode];
  'arbiter.reloadWorkers': [node?: TreeNode];
  'arbiter.addWorker': [node?: TreeNode];
  'arbiter.removeWorker': [node?: TreeNode];
  'arbiter.sendSignal': [node?: TreeNode];
  'arbiter.killWorker': [node?: TreeNode];
  'arbiter.killGeneration': [node?: TreeNode];
  'arbiter.showTerminal': [node?: TreeNode];
  'arbiter.openInBrowser': [node?: TreeNode];
  'arbiter.attachDebugger': [node?: TreeNode];
  'arbiter.attachAll': [node?: TreeNode];
  'arbiter.runDrill': [folder?: vscode.WorkspaceFolder];
  'arbiter.openTimeline': [node?: TreeNode];
};

export type CommandId = keyof CommandArgs;

export function registerCommand<K extends CommandId>(
  context: vscode.ExtensionContext,
  id: K,
  run: (...args: CommandArgs[K]) => unknown,
): void {
  context.subscriptions.push(vscode.commands.registerCommand(id, run as (...args: unknown[]) => unknown));
}

export function executeCommand<K extends CommandId>(id: K, ...args: CommandArgs[K]): Thenable<unknown> {
  return vscode.commands.executeCommand(id, ...args);
}
