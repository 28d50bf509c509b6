/**
 * "Arbiter: Timeline": one webview panel that draws a server's workers over time
 * (timeline-view.ts decides what, timeline-html.ts how). Live: it redraws as the server's
 * events come, at most every REDRAW_MS, and ticks while something still runs so that open bars
 * grow. Opened again from a reload row or a worker row, the same panel turns to that.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { ServerSession } from '../server/server-session';
import { TIMELINE_CSS, timelineHtml } from './timeline-html';
import { timelineOf, underway, type TimelineFocus } from './timeline-view';

const REDRAW_MS = 200;
/** While a bar is open (a worker boots or drains, a hook runs) the panel redraws this often. */
const TICK_MS = 500;

export class TimelinePanel implements vscode.Disposable {
  private static current: TimelinePanel | undefined;
  private readonly panel: vscode.WebviewPanel;
  private readonly subscriptions: vscode.Disposable[] = [];
  private sessionListener: vscode.Disposable | undefined;
  private redrawTimer: NodeJS.Timeout | undefined;
  private readonly ticker: NodeJS.Timeout;
  private disposed = false;

  /** Shows the panel (made once per window) about `session` and `focus`. */
  static show(session: ServerSession, focus: TimelineFocus): void {
    let panel = (TimelinePanel.current ??= new TimelinePanel());
    try {
      panel.panel.reveal(undefined, false);
    } catch {
      // Closed without its dispose event having come yet: a new one.
      panel.dispose();
      panel = TimelinePanel.current = new TimelinePanel();
    }
    panel.turnTo(session, focus);
  }

  /** A server was started again for a folder: a panel showing that folder's last one follows it. */
  static restarted(session: ServerSession): void {
    const panel = TimelinePanel.current;
    if (
      panel &&
      panel.session !== session &&
      panel.session.folder.uri.toString() === session.folder.uri.toString()
    )
      panel.turnTo(session, { kind: 'all' });
  }

  /** Closes the panel if it is open (the extension deactivates). */
  static close(): void {
    TimelinePanel.current?.dispose();
  }

  private session!: ServerSession;
  private focus: TimelineFocus = { kind: 'all' };
  /** The last drawing sent; undefined once the page must be drawn anew (loaded again, another server). */
  private drawn: string | undefined;

  private constructor() {
    this.panel = vscode.window.createWebviewPanel(
      'arbiter.timeline',
      'Arbiter: Timeline',
      vscode.ViewColumn.Active,
      { enableScripts: true, retainContextWhenHidden: false },
    );
    const nonce = randomBytes(16).toString('base64');
    this.panel.webview.html = shell(nonce);
    this.subscriptions.push(
      this.panel.onDidDispose(() => this.dispose()),
      this.panel.onDidChangeViewState(() => this.redraw()),
      // The page asks for its first drawing once its script runs: a message posted before is lost.
      this.panel.webview.onDidReceiveMessage((message: unknown) => {
        if ((message as { type?: unknown } | undefined)?.type !== 'ready') return;
        this.drawn = undefined; // a page loaded again (hidden, then shown) starts empty
        this.draw();
      }),
    );
    this.ticker = setInterval(() => {
      if (this.panel.visible && underway(this.session.model)) this.draw();
    }, TICK_MS);
  }

  private turnTo(session: ServerSession, focus: TimelineFocus): void {
    if (this.session !== session) {
      this.sessionListener?.dispose();
      // Every change of the model: its events, and the arbiter's end (which is no event).
      this.sessionListener = session.onDidChange(() => this.redraw());
      this.drawn = undefined;
    }
    this.session = session;
    this.focus = focus;
    this.panel.title = `Timeline: ${session.folder.name}`;
    this.draw();
  }

  /** Coalesces a burst of events into one drawing. */
  private redraw(): void {
    this.redrawTimer ??= setTimeout(() => {
      this.redrawTimer = undefined;
      this.draw();
    }, REDRAW_MS);
  }

  private draw(): void {
    if (!this.panel.visible) return;
    const view = timelineOf(this.session.model, this.focus, Date.now(), this.session.folder.name);
    const html = timelineHtml(view);
    // The same drawing again would only reset a tooltip, the focus, a screen reader's place.
    if (html === this.drawn) return;
    this.drawn = html;
    void this.panel.webview.postMessage({ type: 'draw', html });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (TimelinePanel.current === this) TimelinePanel.current = undefined;
    clearInterval(this.ticker);
    clearTimeout(this.redrawTimer);
    this.sessionListener?.dispose();
    for (const subscription of this.subscriptions.splice(0)) subscription.dispose();
    this.panel.dispose();
  }
}

/** The page: the style, an empty root, and a script that puts each drawing in. Nothing is loaded from anywhere. */
function shell(nonce: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style>${TIMELINE_CSS}</style><title>Arbiter: Timeline</title></head>
<body><main id="arbiter-timeline" aria-busy="true"></main>
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
const root = document.getElementById('arbiter-timeline');
window.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'draw') { root.innerHTML = event.data.html; root.setAttribute('aria-busy', 'false'); }
});
vscode.postMessage({ type: 'ready' });
</script></body></html>`;
}
