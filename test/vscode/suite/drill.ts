/**
 * Arbiter: Run Shutdown Drill, from the palette: the runner's drill on the folder's app in a
 * task of its own, next to the folder's server, and its report opened beside the editor.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { DrillOutcome } from '../../../extension/drill/run-drill';
import { get, readyInServing, say, serving, type Test } from './support';

/** Three runs of a few reloads under load, each to its stop: longer than one server's boot. */
const DRILL_DEADLINE_MS = 90_000;

export const drill: Test[] = [
  [
    'Run Shutdown Drill: runs as a task beside the serving server, passes on the example app (exit 0), and opens its report',
    async (context) => {
      const { folder } = context;
      const session = await serving(context, folder, 2);
      const servingBefore = session.model.serving;
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        vscode.commands.executeCommand<DrillOutcome>('arbiter.runDrill', folder),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no drill outcome within ${DRILL_DEADLINE_MS} ms`)),
            DRILL_DEADLINE_MS,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      assert.equal(outcome.code, 0, 'the drill passed');
      assert.ok(outcome.report, 'a report was written');
      const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(outcome.report));
      assert.match(text, /^# Shutdown drill: /);
      assert.match(text, /\*\*Passed\*\*: nothing was lost or left open\./);
      say(text.split('\n').find((line) => / requests \(/.test(line)) ?? '');
      // Written outside the project: a report is no change for the folder's watcher to reload on.
      assert.ok(!outcome.report.fsPath.startsWith(folder.uri.fsPath), outcome.report.fsPath);
      // The folder's own server was not touched: the same generation serves, and answers.
      assert.equal(session.model.serving, servingBefore);
      assert.equal(readyInServing(session), 2);
      assert.match(await get(session.url!), /^hello /);
      const tabs = vscode.window.tabGroups.all.flatMap((group) => group.tabs);
      assert.ok(
        tabs.some((tab) => tab.label.includes('arbiter-drill.md')),
        `the report is open: ${tabs.map((tab) => tab.label).join(', ')}`,
      );
      assert.ok(
        vscode.window.terminals.some((terminal) => terminal.name.includes('shutdown drill (api)')),
        `the drill ran in a terminal: ${vscode.window.terminals.map((terminal) => terminal.name).join(', ')}`,
      );
    },
  ],
];
