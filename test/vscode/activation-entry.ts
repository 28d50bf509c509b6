/**
 * The extension-host entry of `npm run bench`'s activation measurement (bench/activation.ts):
 * activates the extension in a fresh VS Code and writes what that cost as one JSON line.
 */
import { appendFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { ArbiterApi } from '../../extension/extension';

export async function run(): Promise<void> {
  const extension = vscode.extensions.getExtension<ArbiterApi>('arbiter-dev.arbiter');
  if (!extension) throw new Error('the extension is not installed');
  const startedAt = performance.now();
  const api = await extension.activate();
  const line = JSON.stringify({ ...api.activation, activateCallMs: performance.now() - startedAt });
  appendFileSync(process.env.ARBITER_VSCODE_RESULTS!, `${line}\n`);
}
