/**
 * How a worker stops. Graceful: stop accepting at once, let in-flight requests finish, run the
 * shutdown hooks, exit. Quick: stop accepting, run the hooks, exit without waiting for
 * requests. A graceful stop can be escalated to a quick one; nothing de-escalates.
 *
 * Who calls exit follows Node's own rule: an app that handles the signal owns its exit (Node
 * would not exit for it either), so the worker only reports what still keeps it alive and
 * lets the arbiter's deadline decide. Otherwise the worker exits once its work is done.
 */
import { stopChanges, type StopMode, type WorkerMessage } from '../protocol/control';
import type { AppServers } from './app-servers';
import { DrainReport } from './drain-report';
import type { HookReporter } from './hook-reporter';
import type { ObservedHandlers } from './observed-handlers';
import type { ShutdownHooks } from './shutdown-hooks';

type Deps = {
  /** Before anything of the app runs for the stop: frameworks' hooks are instrumented, what it holds is said. */
  beforeStop: () => Promise<void>;
  servers: AppServers;
  reporter: HookReporter;
  handlers: ObservedHandlers;
  shutdownHooks: ShutdownHooks;
  send: (message: WorkerMessage) => void;
  /** The real process.exit, before the worker wrapped it. */
  exit: (code: number) => never;
  /** SSE and WebSocket connections never finish by themselves: they are closed after this. */
  longLivedGraceMs: number;
};

/** How long after its shutdown work an app that owns its exit may take before it is called lingering. */
const LINGER_CHECK_MS = 100;

/** Resources that are the worker's own and never a reason it lingers. */
const OWN_RESOURCES = new Set(['PipeWrap', 'TTYWrap', 'SignalWrap']);

export class Shutdown {
  private mode: StopMode | undefined;
  private escalate: (() => void) | undefined;
  private exitCode = 0;

  constructor(private readonly deps: Deps) {}

  get stopping(): boolean {
    return this.mode !== undefined;
  }

  begin(mode: StopMode): void {
    if (!stopChanges(this.mode, mode)) return;
    if (this.mode === 'graceful') {
      this.mode = 'quick';
      this.escalate?.();
      return;
    }
    this.mode = mode;
    void this.run();
  }

  /** The app called process.exit() during a stop: honour it once the shutdown hooks have run. */
  exitRequested(code: number): void {
    this.exitCode = code;
    this.begin('quick');
    void this.deps.shutdownHooks.runAll().then(() => this.deps.exit(code));
  }

  private async run(): Promise<void> {
    const { servers, shutdownHooks, reporter, handlers } = this.deps;
    const drained = servers.stopAccepting();
    new DrainReport(servers, this.deps.send).start();
    const instrumented = this.deps.beforeStop().catch(() => undefined);
    const signal = this.appSignal(this.mode!);
    if (this.mode === 'graceful') {
      // The requests on connections already accepted are served before the app's own handler
      // runs: a framework's close (Fastify's) answers 503 to a request that arrives after it
      // began, even on a connection accepted before. The handler waits for that, or for the
      // long-lived grace, whichever comes first: a request that lasts longer is the app's to end.
      const escalated = new Promise<void>((resolve) => (this.escalate = resolve));
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.deps.longLivedGraceMs)));
      await Promise.race([drained, grace, escalated]);
      clearTimeout(timer);
      await instrumented;
      if (signal) handlers.deliver(signal, signal);
      // Past the grace, what still holds the drain is long-lived (SSE, WebSockets): ended now.
      if (!(await isSettled(drained))) servers.closeLongLived();
      await Promise.race([drained, escalated]);
    } else if (signal) {
      await instrumented;
      handlers.deliver(signal, signal);
    }
    await instrumented;
    await shutdownHooks.runAll();
    await reporter.settled();
    if (signal) {
      // The app owns its exit. If it does not come soon, say what holds the process open; a
      // server closed a moment ago is still listed until Node has released its handle. The
      // timer is unref'd: a process that exits meanwhile never reports.
      setTimeout(() => this.reportLingering(), LINGER_CHECK_MS).unref();
      return;
    }
    if (handlers.appHandlerCount('beforeExit') > 0) {
      handlers.deliver('beforeExit', this.exitCode);
      await reporter.settled();
    }
    this.deps.exit(this.exitCode);
  }

  /**
   * Which of the app's handlers a stop runs: the signal's own, or else the other one. An app
   * that only handles SIGINT wrote its cleanup for Ctrl+C; under the arbiter, Ctrl+C reaches
   * the arbiter and becomes a graceful stop, and that cleanup must not be skipped.
   */
  private appSignal(mode: StopMode): 'SIGTERM' | 'SIGINT' | undefined {
    const [own, other] =
      mode === 'graceful' ? (['SIGTERM', 'SIGINT'] as const) : (['SIGINT', 'SIGTERM'] as const);
    if (this.deps.handlers.appHandlerCount(own) > 0) return own;
    if (this.deps.handlers.appHandlerCount(other) > 0) return other;
    return undefined;
  }

  private reportLingering(): void {
    const resources = process.getActiveResourcesInfo().filter((name) => !OWN_RESOURCES.has(name));
    if (resources.length > 0) this.deps.send({ type: 'lingering', resources: summarize(resources) });
  }
}

/** ['Timeout', 'Timeout', 'TCPSocketWrap'] → ['2 × Timeout', 'TCPSocketWrap'] */
function summarize(resources: string[]): string[] {
  const counts = new Map<string, number>();
  for (const name of resources) counts.set(name, (counts.get(name) ?? 0) + 1);
  return [...counts].map(([name, count]) => (count > 1 ? `${count} × ${name}` : name));
}

/** Whether `promise` has settled by now (a microtask later). */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  const pending = Symbol('pending');
  return (await Promise.race([promise, Promise.resolve(pending)])) !== pending;
}
