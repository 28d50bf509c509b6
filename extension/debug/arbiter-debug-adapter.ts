/**
 * The `arbiter` debug session: the parent under which every worker's js-debug session hangs in
 * Call Stack. It debugs nothing itself (no threads); it starts the server (`launch`) or finds the
 * one running (`attach`), has the attacher follow its workers across reloads, and maps the
 * toolbar to the server: Stop → graceful stop (a second Stop, force stop), Restart → a reload.
 * An inline adapter speaking just enough of the Debug Adapter Protocol for that.
 */
import * as vscode from 'vscode';
import type { LaunchOverrides } from '../server/folder-launch';
import type { ServerManager } from '../server/server-manager';
import type { ServerSession } from '../server/server-session';
import type { WorkerAttacher } from './worker-attacher';

/** How long a worker's debug session gets to detach before the stop goes on without it. */
const RELEASE_DEADLINE_MS = 2_000;

type Request = { seq: number; type: 'request'; command: string; arguments?: Record<string, unknown> };

export class ArbiterDebugAdapter implements vscode.DebugAdapter {
  private readonly sent = new vscode.EventEmitter<vscode.DebugProtocolMessage>();
  readonly onDidSendMessage = this.sent.event;
  private seq = 1;
  private server: ServerSession | undefined;
  private stopping = false;

  constructor(
    private readonly debugSession: vscode.DebugSession,
    private readonly manager: ServerManager,
    private readonly attacher: WorkerAttacher,
  ) {}

  handleMessage(message: vscode.DebugProtocolMessage): void {
    const request = message as Request;
    if (request.type === 'request') void this.handle(request);
  }

  private async handle(request: Request): Promise<void> {
    try {
      switch (request.command) {
        case 'initialize':
          this.respond(request, {
            supportsConfigurationDoneRequest: true,
            supportsTerminateRequest: true,
            supportsRestartRequest: true,
            // Without it VS Code drops `terminateDebuggee`, and an attach session's Stop could not
            // be told from its Disconnect.
            supportTerminateDebuggee: true,
          });
          this.event('initialized');
          return;
        case 'launch':
        case 'attach':
          await this.start(request.command);
          return this.respond(request);
        case 'setBreakpoints': {
          // Breakpoints bind in the workers' sessions; this one has no code of its own.
          const breakpoints = (request.arguments?.breakpoints as unknown[] | undefined) ?? [];
          return this.respond(request, {
            breakpoints: breakpoints.map(() => ({
              verified: false,
              message: 'bound in the worker sessions',
            })),
          });
        }
        case 'threads':
          return this.respond(request, { threads: [] });
        case 'restart':
          this.server?.process.signal('SIGHUP');
          return this.respond(request);
        case 'terminate':
          this.respond(request);
          return this.stopServer();
        case 'disconnect':
          this.respond(request);
          if (this.debugSession.configuration.request === 'launch' || request.arguments?.terminateDebuggee)
            return this.stopServer();
          return this.detach();
        default:
          // configurationDone, setExceptionBreakpoints, pause…: nothing to do here.
          return this.respond(request);
      }
    } catch (error) {
      this.respond(request, undefined, (error as Error).message);
    }
  }

  private async start(request: 'launch' | 'attach'): Promise<void> {
    const folder = this.debugSession.workspaceFolder ?? vscode.workspace.workspaceFolders?.[0];
    if (!folder) throw new Error('Arbiter: open a folder to debug its server.');
    const running = this.manager.sessionFor(folder);
    const server =
      request === 'attach'
        ? running?.process.running
          ? running
          : undefined
        : await this.manager.start(folder, launchOverrides(this.debugSession.configuration));
    if (!server) throw new Error(`Arbiter: no server runs for ${folder.name}; use a launch configuration.`);
    this.server = server;
    this.attacher.follow(server, this.debugSession);
    void server.exited.then(() => this.end());
  }

  /** Stop: graceful the first time, force the second; the session ends when the server has. */
  private async stopServer(): Promise<void> {
    const server = this.server;
    if (!server?.process.running) return this.end();
    if (this.stopping) {
      await server.forceStop();
      return;
    }
    this.stopping = true;
    // A worker stopped at a breakpoint would hold the stop until someone pressed Continue; the
    // developer who stops the session means to let go of it.
    await this.releaseWorkers();
    await server.stop();
  }

  /** Leaves an attached server running; only the debug sessions go. */
  private async detach(): Promise<void> {
    await this.releaseWorkers();
    this.end();
  }

  /**
   * Detaches the debugger from every worker, which resumes any that it held. Through the
   * adapters, not `stopDebugging`: a child's lifecycle is the parent's, so VS Code would turn
   * that into one more Stop of this session.
   */
  private async releaseWorkers(): Promise<void> {
    if (this.server) this.attacher.unfollow(this.server);
    await Promise.all(
      childSessions(this.debugSession).map(
        (child) =>
          Promise.race([
            child.customRequest('disconnect', { terminateDebuggee: false }),
            new Promise((resolve) => setTimeout(resolve, RELEASE_DEADLINE_MS)),
          ]).catch(() => undefined), // a session already gone has nothing to release
      ),
    );
  }

  private ended = false;
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.server) this.attacher.unfollow(this.server);
    this.event('terminated');
  }

  private respond(request: Request, body?: object, error?: string): void {
    this.sent.fire({
      seq: this.seq++,
      type: 'response',
      request_seq: request.seq,
      command: request.command,
      success: error === undefined,
      ...(error ? { message: error } : {}),
      ...(body ? { body } : {}),
    });
  }

  private event(event: string, body?: object): void {
    this.sent.fire({ seq: this.seq++, type: 'event', event, ...(body ? { body } : {}) });
  }

  dispose(): void {
    if (this.server) this.attacher.unfollow(this.server);
    this.sent.dispose();
  }
}

/** The launch configuration's attributes, checked: a wrong type is an error, not a surprise. */
function launchOverrides(configuration: vscode.DebugConfiguration): LaunchOverrides {
  const overrides: LaunchOverrides = {};
  const check = (key: keyof LaunchOverrides, type: 'string' | 'number' | 'object') => {
    const value: unknown = configuration[key];
    if (value === undefined) return;
    if (typeof value !== type || value === null)
      throw new Error(
        `Arbiter: "${key}" in the launch configuration must be a ${type}, not ${JSON.stringify(value)}`,
      );
    Object.assign(overrides, { [key]: value });
  };
  check('app', 'string');
  check('bind', 'string');
  check('workers', 'number');
  check('gracefulTimeout', 'number');
  check('timeout', 'number');
  check('env', 'object');
  return overrides;
}

/** The sessions started under `parent` that still run (the workers'). */
const children = new Map<vscode.DebugSession, Set<vscode.DebugSession>>();
function childSessions(parent: vscode.DebugSession): vscode.DebugSession[] {
  return [...(children.get(parent) ?? [])];
}

/** Keeps `childSessions` current. */
export function trackChildSessions(): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.debug.onDidStartDebugSession((session) => {
      if (!session.parentSession) return;
      let set = children.get(session.parentSession);
      if (!set) children.set(session.parentSession, (set = new Set()));
      set.add(session);
    }),
    vscode.debug.onDidTerminateDebugSession((session) => {
      children.delete(session);
      if (session.parentSession) children.get(session.parentSession)?.delete(session);
    }),
  );
}
