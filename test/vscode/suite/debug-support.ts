/**
 * What the debugging tests share: the debug sessions VS Code runs, js-debug's breakpoints and
 * stops as its adapter reports them, and the fixtures' breakpoint lines.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { DEADLINE_MS } from './support';

/**
 * Every debug session running, from the suite's start: a session a test waits for may have
 * started before the test began to wait (a worker's inspector opens while it boots).
 */
const runningSessions = new Set<vscode.DebugSession>();
vscode.debug.onDidStartDebugSession((s) => runningSessions.add(s));
vscode.debug.onDidTerminateDebugSession((s) => runningSessions.delete(s));

/** Resolves once `check` holds for a started debug session; fails at the deadline. */
export function debugSession(
  what: string,
  check: (s: vscode.DebugSession) => boolean,
  /** Whether one that is running already counts, or only one that starts from now on. */
  { running = false } = {},
): Promise<vscode.DebugSession> {
  const already = running ? [...runningSessions].find(check) : undefined;
  if (already) return Promise.resolve(already);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(new Error(`no debug session within ${DEADLINE_MS} ms: ${what}`));
    }, DEADLINE_MS);
    const subscription = vscode.debug.onDidStartDebugSession((s) => {
      if (!check(s)) return;
      clearTimeout(timer);
      subscription.dispose();
      resolve(s);
    });
  });
}

/**
 * Watches js-debug: whether a breakpoint has bound (js-debug binds it asynchronously, once the
 * script's source map is read), and which session and thread stopped last (the worker's own
 * target session, a child of the attach), so a test can continue exactly that one.
 */
export function watchDebugger(): vscode.Disposable & {
  verified: boolean;
  stopped?: { session: vscode.DebugSession; threadId: number };
  onChange: vscode.Event<void>;
} {
  const changed = new vscode.EventEmitter<void>();
  const watcher: ReturnType<typeof watchDebugger> = {
    verified: false,
    onChange: changed.event,
    dispose: () => {
      registration.dispose();
      changed.dispose();
    },
  };
  type Message = {
    type?: string;
    event?: string;
    command?: string;
    body?: { threadId?: number; breakpoint?: { verified?: boolean }; breakpoints?: { verified?: boolean }[] };
  };
  const registration = vscode.debug.registerDebugAdapterTrackerFactory('pwa-node', {
    createDebugAdapterTracker: (session) => ({
      onDidSendMessage(message: Message) {
        if (message.type === 'event' && message.event === 'stopped')
          watcher.stopped = { session, threadId: message.body?.threadId ?? 0 };
        else if (message.type === 'event' && message.event === 'breakpoint')
          watcher.verified ||= message.body?.breakpoint?.verified === true;
        else if (message.type === 'response' && message.command === 'setBreakpoints')
          watcher.verified ||= message.body?.breakpoints?.some((b) => b.verified) === true;
        else return;
        changed.fire();
      },
    }),
  });
  return watcher;
}

/** The line of the fixture's breakpoint comment. */
export function breakpointAt(
  uri: vscode.Uri,
  text = "the debugging tests' breakpoint",
): vscode.SourceBreakpoint {
  const lines = readFileSync(uri.fsPath, 'utf8').split('\n');
  const line = lines.findIndex((l) => l.includes(text));
  assert.ok(line >= 0, `${text} in ${uri.fsPath}`);
  return new vscode.SourceBreakpoint(new vscode.Location(uri, new vscode.Position(line, 4)));
}

/**
 * The file (a path of the code-server file system) and line of the top frame where the
 * debugger stopped last, as its `stackTrace` gives them.
 */
export async function topFrame(
  stopped: NonNullable<ReturnType<typeof watchDebugger>['stopped']>,
): Promise<{ path: string; line: number | undefined }> {
  const trace = (await stopped.session.customRequest('stackTrace', {
    threadId: stopped.threadId,
    levels: 1,
  })) as {
    stackFrames: { line: number; source?: { path?: string } }[];
  };
  const [top] = trace.stackFrames;
  // VS Code hands the path back as a URI of the remote (code-server) file system.
  return { path: vscode.Uri.parse(top?.source?.path ?? '').path, line: top?.line };
}
