/** One status bar item for the servers: state, workers, generation, address; a click shows the tree. */
import * as vscode from 'vscode';
import type { ServerSession } from '../server/server-session';
import { serverDescription } from './describe';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'arbiter.status',
    vscode.StatusBarAlignment.Left,
    10,
  );

  constructor() {
    this.item.name = 'Arbiter';
    this.item.command = 'arbiter.workers.focus';
  }

  /** What the item shows now (the tests read it). */
  get text(): string {
    return this.item.text;
  }

  update(sessions: readonly ServerSession[]): void {
    const live = sessions.filter((session) => session.model.phase !== 'exited');
    if (sessions.length === 0) return void this.item.hide();
    const first = live[0] ?? sessions[0]!;
    const model = first.model;
    const ready = model.readyCount();
    const icon =
      model.phase === 'running'
        ? '$(server-process)'
        : model.phase === 'exited'
          ? '$(debug-stop)'
          : '$(loading~spin)';
    this.item.text = `${icon} ${ready}/${model.targetWorkers} · gen ${model.serving || '–'}${live.length > 1 ? ` (+${live.length - 1})` : ''}`;
    this.item.tooltip = sessions
      .map((session) => `${session.folder.name}: ${serverDescription(session.model, session.url)}`)
      .join('\n');
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
