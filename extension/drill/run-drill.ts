/**
 * Arbiter: Run Shutdown Drill — the runner's `arbiter drill` on a folder's app, as a task in
 * the terminal panel (its progress as it goes), then its Markdown report opened beside the
 * editor and one line that says whether it passed. The drill binds loopback on a free port of
 * its own, so it runs next to the folder's server without touching it.
 */
import * as vscode from 'vscode';
import { EXIT } from '../../runner/protocol/exit-codes';
import type { FolderLaunch } from '../server/folder-launch';

/** What the command resolves to (the extension tests read it). */
export type DrillOutcome = {
  /** The drill's exit code: 0 passed, 1 something lost or left open, else it could not run. */
  code: number | undefined;
  /** The Markdown report, when the drill got far enough to write one. */
  report: vscode.Uri | undefined;
};

/** The task type, declared in package.json's taskDefinitions. */
const TASK_TYPE = 'arbiter-drill';
const REPORT = 'arbiter-drill.md';

export async function runDrill(
  folder: vscode.WorkspaceFolder,
  launch: FolderLaunch & { cli: string },
  reportDir: vscode.Uri,
): Promise<DrillOutcome> {
  await vscode.workspace.fs.createDirectory(reportDir);
  const report = vscode.Uri.joinPath(reportDir, REPORT);
  // A report left by an earlier drill must not pass for this one's.
  await vscode.workspace.fs.delete(report).then(undefined, () => undefined);
  const args = [launch.cli, 'drill', '--report-dir', reportDir.fsPath, ...launch.args];
  if (launch.app) args.push(launch.app);
  const task = new vscode.Task(
    { type: TASK_TYPE, folder: folder.name },
    folder,
    `shutdown drill (${folder.name})`,
    'arbiter',
    new vscode.ProcessExecution(launch.node, args, { cwd: folder.uri.fsPath }),
  );
  task.presentationOptions = {
    reveal: vscode.TaskRevealKind.Always,
    panel: vscode.TaskPanelKind.Dedicated,
    clear: true,
  };
  const code = await new Promise<number | undefined>((resolve, reject) => {
    // Subscribed before the task starts: a drill that fails at once ends before executeTask settles.
    const ended = vscode.tasks.onDidEndTaskProcess((end) => {
      if (end.execution.task.definition.type !== TASK_TYPE || end.execution.task.scope !== folder) return;
      ended.dispose();
      resolve(end.exitCode);
    });
    vscode.tasks.executeTask(task).then(undefined, (error: unknown) => {
      ended.dispose();
      reject(error instanceof Error ? error : new Error(String(error)));
    });
  });
  const written = await vscode.workspace.fs.stat(report).then(
    () => true,
    () => false,
  );
  if (written) await vscode.commands.executeCommand('markdown.showPreviewToSide', report);
  void vscode.window[code === 0 ? 'showInformationMessage' : 'showWarningMessage'](verdict(folder, code));
  return { code, report: written ? report : undefined };
}

function verdict(folder: vscode.WorkspaceFolder, code: number | undefined): string {
  const name = `Arbiter: the shutdown drill of ${folder.name}`;
  if (code === EXIT.OK) return `${name} passed: no request lost, every hook ok, nothing left open.`;
  if (code === EXIT.DRILL_FOUND) return `${name} found something lost or left open: see its report.`;
  if (code === undefined) return `${name} did not run to its end.`;
  return `${name} could not run the app (exit code ${code}): see the terminal.`;
}
