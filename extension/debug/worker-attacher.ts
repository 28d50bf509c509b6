/**
 * Attaches VS Code's JavaScript debugger (js-debug) to workers: asks the arbiter to open a
 * worker's inspector, waits for its port in the event stream, and starts an `attach` session on
 * it, named after the worker. Following a server (the `arbiter` debug session) does that for
 * every worker now and every later one — each new generation is attached as it boots, and the
 * old workers' sessions end by themselves as they exit (js-debug ends when its target goes).
 */
import * as vscode from 'vscode';
import type { EventOf } from '../../runner/protocol/events';
import type { ServerSession } from '../server/server-session';
import {
  attachConfiguration,
  INSPECTOR_DEADLINE_MS,
  isDebugpy,
  MARKER_KEY,
  type Inspector,
  type WorkerMarker,
} from './attach-configuration';

/** The worker a debug session (or one of its ancestors: js-debug nests its own) is attached to. */
export function markerOf(session: vscode.DebugSession | undefined): WorkerMarker | undefined {
  for (let s = session; s; s = s.parentSession) {
    const marker = (s.configuration as Record<string, unknown>)[MARKER_KEY];
    if (marker) return marker as WorkerMarker;
  }
  return undefined;
}

/** Asks for the worker's inspector (or debugpy); resolves with where it listens. */
function inspectorOf(session: ServerSession, pid: number): Promise<Inspector> {
  const known = session.model.worker(pid)?.inspector;
  if (known && 'port' in known) return Promise.resolve(known);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(
        new Error(`worker pid ${pid} did not open its inspector within ${INSPECTOR_DEADLINE_MS / 1000} s`),
      );
    }, INSPECTOR_DEADLINE_MS);
    const subscription = session.onEvent((event) => {
      if (event.type !== 'worker.inspector' || event.pid !== pid) return;
      clearTimeout(timer);
      subscription.dispose();
      if (event.port) resolve({ port: event.port, ...(event.url ? { url: event.url } : {}) });
      else reject(new Error(`worker pid ${pid} cannot open its inspector: ${event.error ?? 'unknown'}`));
    });
    if (!session.process.command({ type: 'inspect', pid })) {
      clearTimeout(timer);
      subscription.dispose();
      reject(new Error('the server is not running'));
    }
  });
}

/** The Python debugger that attaches to debugpy; without it, what to install. */
function pythonDebugger(port: number): void {
  if (
    vscode.extensions.getExtension('ms-python.debugpy') ||
    vscode.extensions.getExtension('ms-python.python')
  )
    return;
  throw new Error(
    `this Python worker's debugpy listens on 127.0.0.1:${port}, but attaching needs the Python Debugger extension (ms-python.debugpy): install it, or attach another DAP client to that port`,
  );
}

/** The attach configuration for one worker; for a Python one, only with the Python Debugger. */
function configurationFor(
  session: ServerSession,
  worker: { pid: number; id: number; generation: number },
  inspector: Inspector,
  extensionPath: string,
): vscode.DebugConfiguration {
  if (isDebugpy(inspector)) pythonDebugger(inspector.port);
  return attachConfiguration(session.folder.uri.toString(), worker, inspector, extensionPath);
}

export class WorkerAttacher implements vscode.Disposable {
  private readonly following = new Map<ServerSession, vscode.Disposable>();

  constructor(private readonly extensionPath: string) {}

  /** One worker, on request (Attach Debugger). Resolves once its session started. */
  async attach(session: ServerSession, pid: number, parent?: vscode.DebugSession): Promise<boolean> {
    const worker = session.model.worker(pid);
    if (!worker || worker.exit) throw new Error(`pid ${pid} is not a running worker of this server`);
    return this.start(session, worker, await inspectorOf(session, pid), parent);
  }

  private start(
    session: ServerSession,
    worker: { pid: number; id: number; generation: number },
    inspector: Inspector,
    parent: vscode.DebugSession | undefined,
  ): Thenable<boolean> {
    return vscode.debug.startDebugging(
      session.folder,
      configurationFor(session, worker, inspector, this.extensionPath),
      parent
        ? {
            parentSession: parent,
            // Stop and Restart on a worker's session reach the server's (the arbiter session).
            lifecycleManagedByParent: true,
            consoleMode: vscode.DebugConsoleMode.MergeWithParent,
            compact: false,
            suppressSaveBeforeStart: true,
          }
        : { suppressSaveBeforeStart: true },
    );
  }

  /** Every worker of the server, now and from now on, under `parent` (or top-level). */
  follow(session: ServerSession, parent?: vscode.DebugSession): void {
    this.unfollow(session);
    const attached = new Set<number>();
    let warned = false;
    const attachOne = (event: EventOf<'worker.inspector'>) => {
      if (!event.port || attached.has(event.pid)) return;
      attached.add(event.pid);
      const worker = session.model.worker(event.pid);
      if (!worker || worker.exit) return;
      try {
        void this.start(
          session,
          worker,
          { port: event.port, ...(event.url ? { url: event.url } : {}) },
          parent,
        );
      } catch (error) {
        // Said once per server: every later worker would fail the same way.
        if (!warned) void vscode.window.showWarningMessage(`Arbiter: ${(error as Error).message}`);
        warned = true;
      }
    };
    this.following.set(
      session,
      session.onEvent((event) => event.type === 'worker.inspector' && attachOne(event)),
    );
    // Without a pid: every worker's inspector, and every later worker's.
    session.process.command({ type: 'inspect' });
  }

  unfollow(session: ServerSession): void {
    this.following.get(session)?.dispose();
    this.following.delete(session);
  }

  dispose(): void {
    for (const subscription of this.following.values()) subscription.dispose();
    this.following.clear();
  }
}
