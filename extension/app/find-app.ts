/**
 * Which app "Start Server" runs in a folder, in order: the `arbiter.app` setting; the
 * `arbiter.configFile` setting or an `arbiter.config.*` file (the runner reads the app from it); package.json (the start script's
 * entry, else `main`); else the user picks among the folder's likely entry files. The pick is
 * remembered per folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { CONFIG_FILE_NAMES } from '../../runner/protocol/app-forms';
import { appFromPackageJson } from './app-from-package';

const REMEMBERED = 'arbiter.app';
const CANDIDATES = '{*,src/*,server/*,app/*}.{js,mjs,cjs,ts,mts,cts}';

/** What to start: an app path (relative to the folder), or the config file's own app. */
export type AppChoice = { app?: string; configFile?: string; source: string };

export async function findApp(
  folder: vscode.WorkspaceFolder,
  state: vscode.Memento,
): Promise<AppChoice | undefined> {
  const root = folder.uri.fsPath;
  const setting = vscode.workspace.getConfiguration('arbiter', folder.uri).get<string>('app');
  if (setting) return { app: setting, source: 'the arbiter.app setting' };
  const configSetting = vscode.workspace.getConfiguration('arbiter', folder.uri).get<string>('configFile');
  if (configSetting) return { configFile: configSetting, source: 'the arbiter.configFile setting' };
  const configFile = CONFIG_FILE_NAMES.find((name) => existsSync(join(root, name)));
  if (configFile) return { configFile, source: configFile };
  const fromPackage = readPackageApp(root);
  if (fromPackage && existsSync(join(root, fromPackage))) return { app: fromPackage, source: 'package.json' };
  const remembered = state.get<Record<string, string>>(REMEMBERED, {})[root];
  if (remembered && existsSync(join(root, remembered)))
    return { app: remembered, source: 'your last choice' };
  const picked = await pickApp(folder);
  if (!picked) return undefined;
  await state.update(REMEMBERED, { ...state.get<Record<string, string>>(REMEMBERED, {}), [root]: picked });
  return { app: picked, source: 'your choice' };
}

function readPackageApp(root: string): string | undefined {
  try {
    return appFromPackageJson(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as object);
  } catch {
    return undefined;
  }
}

async function pickApp(folder: vscode.WorkspaceFolder): Promise<string | undefined> {
  const files = await vscode.workspace.findFiles(
    new vscode.RelativePattern(folder, CANDIDATES),
    '**/node_modules/**',
    200,
  );
  const items = files
    .map((uri) => vscode.workspace.asRelativePath(uri, false))
    .sort()
    .map((label) => ({ label }));
  if (items.length === 0) {
    void vscode.window.showErrorMessage(
      `Arbiter: no app to start in ${folder.name}: set "arbiter.app", add an arbiter.config file, or a "start" script or "main" in package.json.`,
    );
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: `Arbiter: which file starts the server in ${folder.name}?`,
    placeHolder: 'remembered for this folder',
  });
  return picked?.label;
}
