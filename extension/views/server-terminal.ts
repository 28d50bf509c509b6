/**
 * The server's output in an integrated terminal named after its folder: a pseudoterminal
 * replaying what the arbiter wrote so far, then following it. Ctrl+C there is the arbiter's
 * own ladder (graceful → quick → kill), sent as SIGINT exactly as a shell would.
 */
import * as vscode from 'vscode';
import type { ServerSession } from '../server/server-session';

/** A pty wants CRLF. */
const crlf = (text: string) => text.replace(/\r?\n/g, '\r\n');

export function openServerTerminal(session: ServerSession): vscode.Terminal {
  const write = new vscode.EventEmitter<string>();
  const close = new vscode.EventEmitter<number | void>();
  const subscriptions: vscode.Disposable[] = [write, close];
  const pty: vscode.Pseudoterminal = {
    onDidWrite: write.event,
    onDidClose: close.event,
    open: () => {
      write.fire(crlf(session.outputSoFar));
      subscriptions.push(session.onOutput((text) => write.fire(crlf(text))));
      void session.exited.then((exit) =>
        write.fire(
          crlf(`\n[arbiter exited${exit.code !== null ? ` with code ${exit.code}` : ` (${exit.signal})`}]\n`),
        ),
      );
    },
    close: () => {
      for (const subscription of subscriptions) subscription.dispose();
    },
    handleInput: (data) => {
      if (data === '\x03') {
        write.fire('^C\r\n');
        session.interrupt();
      }
    },
  };
  return vscode.window.createTerminal({
    name: `Arbiter: ${session.folder.name}`,
    pty,
    iconPath: new vscode.ThemeIcon('server-process'),
  });
}
