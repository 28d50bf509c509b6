/**
 * A failed reload puts its error on the file and line in the Problems panel; the next good
 * reload (or the server's end) clears it.
 */
import * as vscode from 'vscode';
import type { ArbiterEvent } from '../../runner/protocol/events';

export class ReloadDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('arbiter');

  /** Applies one event of a server's stream. */
  onEvent(event: ArbiterEvent): void {
    if (event.type === 'reload' && event.phase === 'completed') this.collection.clear();
    if (event.type === 'arbiter.exited') this.collection.clear();
    if (event.type !== 'reload' || event.phase !== 'failed' || !event.error?.file) return;
    const { file, line = 1, column = 1, message } = event.error;
    const position = new vscode.Position(Math.max(0, line - 1), Math.max(0, column - 1));
    const diagnostic = new vscode.Diagnostic(
      new vscode.Range(position, position.translate(0, 1)),
      `${message} (generation ${event.generation} did not start; generation before it keeps serving)`,
      vscode.DiagnosticSeverity.Error,
    );
    diagnostic.source = 'arbiter';
    this.collection.clear();
    this.collection.set(vscode.Uri.file(file), [diagnostic]);
  }

  dispose(): void {
    this.collection.dispose();
  }
}
