/**
 * The extension's tests, run by a real VS Code in its extension host (test/vscode/run-vscode-tests.ts
 * starts it). Each test drives the extension through its commands and reads what a user would
 * see — the tree's rows, Problems — and what the runner reports; every wait is on an event of
 * the server's stream, with a deadline. Each test can run alone (`ARBITER_VSCODE_GREP`): one
 * that needs a running server finds the folder's or starts it (`serving`), one that edits a
 * fixture edits what the file says now.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ArbiterApi } from '../../../extension/extension';
import { debugging } from './debugging';
import { drill } from './drill';
import { multiRootAndTerminal } from './multi-root-terminal';
import { python } from './python';
import { servers } from './servers';
import { storm } from './storm';
import { say, trackSpawned, type Context, type Test } from './support';

const tests: Test[] = [...servers, ...multiRootAndTerminal, ...debugging, ...python, ...storm, ...drill];

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
  const spawned = trackSpawned(api);
  const context: Context = {
    api,
    folder: byName('api'),
    web: byName('web'),
    storm: byName('storm'),
    ts: byName('ts'),
    py: byName('py'),
    nest: byName('nest'),
    spawned: spawned.of,
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
  spawned.dispose();
  say(`${passed} passed, ${failed} failed`);
  if (failed > 0) throw new Error(`${failed} test(s) failed`);
}
