/**
 * Which Python runs a folder's `module:callable` app: the `arbiter.python` setting; else the
 * interpreter the Python extension has selected for the folder, when it is installed (its
 * environments API); else the runner's default, `python3` on PATH.
 */
import * as vscode from 'vscode';
import { isPythonApp } from '../../runner/protocol/app-forms';

export { isPythonApp };

type PythonExtensionApi = {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined;
  };
};

export async function pythonFor(
  folder: vscode.WorkspaceFolder,
  setting: string | undefined,
): Promise<string | undefined> {
  if (setting) return setting;
  const extension = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (!extension) return undefined;
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    const path = api.environments?.getActiveEnvironmentPath(folder.uri)?.path;
    // Its default "python" is no better than our default.
    return path && path !== 'python' ? path : undefined;
  } catch {
    return undefined; // an extension that fails to activate must not stop the server starting
  }
}
