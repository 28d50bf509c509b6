/**
 * The servers of this window, one per workspace folder at most: starts them, finds them for a
 * command, and stops them all when the window goes. An arbiter that dies on its own is
 * reported once, with the end of its output, and never restarted in a loop.
 */
import * as vscode from 'vscode';
import { executeCommand } from '../commands';
import { CLI, folderLaunch, type LaunchOverrides } from './folder-launch';
import type { ArbiterExit } from './arbiter-process';
import { ServerSession } from './server-session';

/** Colour codes in the arbiter's output, left out of a notification. */
const ANSI_COLOR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
/** Lines of output shown when an arbiter dies unasked. */
const CRASH_TAIL_LINES = 15;

export class ServerManager implements vscode.Disposable {
  private readonly byFolder = new Map<string, ServerSession>();
  private readonly started = new vscode.EventEmitter<ServerSession>();
  private readonly changed = new vscode.EventEmitter<ServerSession>();
  readonly onDidStart = this.started.event;
  /** Any server's model changed, or a server came or went. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly state: vscode.Memento) {}

  sessions(): ServerSession[] {
    return [...this.byFolder.values()];
  }

  sessionFor(folder: vscode.WorkspaceFolder): ServerSession | undefined {
    return this.byFolder.get(folder.uri.toString());
  }

  /**
   * Starts the folder's server, or returns the one that runs. `overrides` (from an `arbiter`
   * launch configuration) win over the folder's settings.
   */
  async start(
    folder: vscode.WorkspaceFolder,
    overrides: LaunchOverrides = {},
  ): Promise<ServerSession | undefined> {
    const running = this.sessionFor(folder);
    if (running && running.model.phase !== 'exited') return running;
    const launch = await folderLaunch(folder, this.state, overrides);
    if (!launch) return undefined;
    const session = new ServerSession({
      folder,
      cli: CLI,
      ...launch,
      ...(overrides.env ? { env: overrides.env } : {}),
    });
    running?.dispose();
    this.byFolder.set(folder.uri.toString(), session);
    session.onDidChange(() => this.changed.fire(session));
    void session.exited.then((exit) => this.reportUnaskedExit(session, exit));
    this.started.fire(session);
    this.changed.fire(session);
    return session;
  }

  /** Says once that a server stopped without being asked, with its last words; no restart. */
  private async reportUnaskedExit(session: ServerSession, exit: ArbiterExit): Promise<void> {
    if (session.stopAsked || exit.code === 0) return;
    const last = session.outputSoFar.trimEnd().split('\n').slice(-CRASH_TAIL_LINES);
    const how = exit.error
      ? exit.error.message
      : exit.code !== null
        ? `exit code ${exit.code}`
        : `${exit.signal}`;
    const lastLine = last.at(-1)?.replace(ANSI_COLOR, '').trim();
    const choice = await vscode.window.showErrorMessage(
      `Arbiter: the server for ${session.folder.name} stopped (${how})${lastLine ? `: ${lastLine}` : ''}`,
      'Show Output',
    );
    if (choice === 'Show Output') await executeCommand('arbiter.showTerminal', { kind: 'server', session });
  }

  /** Every server stops gracefully (hooks run); used when the window closes. */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.sessions()
        .filter((s) => s.process.running)
        .map((s) => s.stop()),
    );
  }

  dispose(): void {
    for (const session of this.sessions()) session.dispose();
    this.started.dispose();
    this.changed.dispose();
  }
}
