/**
 * What runs for a workspace folder: the app (found, or picked and remembered), the runner's
 * options from the folder's `arbiter.*` settings (a launch configuration's over them), the
 * Python interpreter for a Python app. Start Server and Run Shutdown Drill run the same thing.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import { findApp } from '../app/find-app';
import { isPythonApp, pythonFor } from './python-interpreter';
import { settingsArgs } from './settings-args';

/** The runner's CLI bundle, next to the extension's own bundle. */
export const CLI = join(__dirname, '..', 'runner', 'cli.js');

/** What an `arbiter` launch configuration may set over the folder's settings. */
export type LaunchOverrides = {
  app?: string;
  bind?: string;
  workers?: number;
  gracefulTimeout?: number;
  timeout?: number;
  env?: Record<string, string>;
};

export type FolderLaunch = {
  node: string;
  /** The runner's options; the app is apart, since it comes last. */
  args: string[];
  app?: string;
};

/**
 * The folder's launch, or undefined when the user dismissed the app pick. `bind: false`: the
 * caller binds its own address (the drill binds loopback on a free port).
 */
export async function folderLaunch(
  folder: vscode.WorkspaceFolder,
  state: vscode.Memento,
  overrides: LaunchOverrides = {},
  { bind = true }: { bind?: boolean } = {},
): Promise<FolderLaunch | undefined> {
  const choice = overrides.app ? { app: overrides.app } : await findApp(folder, state);
  if (!choice) return undefined;
  const folderConfig = vscode.workspace.getConfiguration('arbiter', folder.uri);
  const config = {
    get: <T>(key: string): T | undefined =>
      (overrides[key as keyof LaunchOverrides] as T | undefined) ?? folderConfig.get<T>(key),
  };
  const python =
    choice.app && isPythonApp(choice.app, folder.uri.fsPath)
      ? await pythonFor(folder, config.get<string>('python'))
      : undefined;
  return {
    node: config.get<string>('nodePath') || 'node',
    args: [
      ...settingsArgs(config, { bind }),
      ...(python ? ['--python', python] : []),
      ...('configFile' in choice && choice.configFile ? ['--config', choice.configFile] : []),
    ],
    ...(choice.app ? { app: choice.app } : {}),
  };
}
