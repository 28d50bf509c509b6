/**
 * The Node worker runtime: the first code a worker process runs. It opens the control
 * channel, waits for its boot message, installs the listen redirection and the hook
 * observers, loads the app, and from then on beats, counts requests and stops on command.
 */
import http from 'node:http';
import { dirname } from 'node:path';
import type { ErrorInfo } from '../protocol/events';
import type { ArbiterMessage, BootMessage, WorkerMessage } from '../protocol/control';
import { locateError, userStack } from '../errors/error-location';
import { EXIT } from '../protocol/exit-codes';
import { findSyntaxError } from '../errors/syntax-location';
import { AppServers } from './app-servers';
import { BootTiming } from './boot-timing';
import { ControlChannel } from './control-channel';
import { FrameworkHooks } from './framework-hooks';
import { HeldReports } from './held-now';
import { HookReporter } from './hook-reporter';
import { enableCompileCache } from './compile-cache';
import { Dependencies } from './dependencies';
import { closeInspector, openInspector } from './inspector';
import { exportedHandler, loadApp } from './load-app';
import { ObservedHandlers } from './observed-handlers';
import { applyEnvFile, preload } from './preload';
import { protectFds } from './protected-fds';
import { Readiness } from './readiness';
import { Shutdown } from './shutdown';
import { IDLE_MAIN_THREAD, inspectorOpened, startStallWatch } from './stall-watch';
import { ShutdownHooks } from './shutdown-hooks';

/** How long an orphaned worker (arbiter gone) gives its hooks before it ends its process group. */
const ORPHAN_GRACE_MS = 400;
/** How often request counters may be reported. */
const STATS_INTERVAL_MS = 1000;

const exitProcess: (code?: number) => never = process.exit.bind(process);
const realExit: (code?: number) => never = (code) => {
  closeInspector();
  return exitProcess(code);
};
process.on('exit', closeInspector); // a natural exit too: the loop ran empty
// A real SIGUSR1 would open Node's inspector on 9229, where N workers collide: with a listener
// installed it does not (the app's own SIGUSR1 listeners still run). The inspector opens when
// asked, on a free port.
process.on('SIGUSR1', () => undefined);
let booted = false;
/** The app's module is loaded: from then on the app keeps the process alive (releaseChannel). */
let loaded = false;
/** No cue is awaited: booted to accept at once, cued, or stopped. */
let cued = true;
// While a standby waits: its boot then pays nothing for it.
enableCompileCache();
/** A standby's preload under way: a boot message that comes meanwhile waits for it. */
let preloading: Promise<void> | undefined;
/** Set by the arbiter where preloading is on: this worker records the third-party modules it loads. */
const PRELOAD_MARK = 'ARBITER_PRELOAD';
const recording = process.env[PRELOAD_MARK] === '1';
delete process.env[PRELOAD_MARK];

const channel = new ControlChannel(onMessage, onOrphaned);
const send = (message: WorkerMessage) => channel.send(message);
const reporter = new HookReporter(send);
const handlers = new ObservedHandlers(reporter);
const shutdownHooks = new ShutdownHooks(reporter);
const frameworks = new FrameworkHooks(reporter);
const held = new HeldReports(send);
let servers: AppServers | undefined;
/** The Readiness a cue (`accept`) goes to. */
let waitingForCue: Readiness | undefined;
/** The cue came already: before the boot began (it waited for a preload), or during it. */
let cueGiven = false;
let shutdown: Shutdown | undefined;
// ES modules are recorded only under tsx, whose own hooks already run the loader thread the
// recorder needs. In a plain ES module app the recorder would start that thread itself, and
// js-debug, which attaches to every thread, then did not end a worker's session on Disconnect
// (the VS Code suite's attach test): its ES-module packages load in the boot instead (its
// CommonJS ones, most of a framework, are still preloaded).
const dependencies = recording ? new Dependencies(process.execArgv.includes('--import')) : undefined;

function onMessage(message: ArbiterMessage): void {
  switch (message.type) {
    case 'boot':
      if (booted) return;
      booted = true;
      if (preloading) void preloading.then(() => boot(message));
      else void boot(message);
      return;
    case 'preload':
      if (booted || preloading) return;
      installRuntime();
      preloading = preload(message).then(send);
      return;
    case 'stop':
      send({ type: 'stopping', mode: message.mode });
      stop(message.mode);
      // Its servers stopped accepting in stop(), synchronously: say so, with the counters then.
      send({ type: 'closed', served: servers?.served ?? 0, inflight: servers?.inflight ?? 0 });
      cued = true; // no cue will come: the channel no longer holds an app that owns its exit open
      releaseChannel();
      return;
    case 'reopen-logs':
      // Apps that reopen their logs on SIGUSR1 get the call without Node's inspector opening.
      process.emit('SIGUSR1' as never);
      return;
    case 'inspect':
      inspectorOpened();
      send(openInspector());
      return;
    case 'stacks':
      // Read here, the main thread is not the stuck one: a busy one is read by its stall watcher.
      send({ type: 'stacks', threads: [], unavailable: IDLE_MAIN_THREAD });
      return;
    case 'accept':
      cued = true;
      cueGiven = true; // a boot still queued behind a preload takes it when it starts
      waitingForCue?.accept();
      releaseChannel();
      return;
  }
}

function stop(mode: 'graceful' | 'quick'): void {
  if (!shutdown) realExit(0); // stopped before the app was even loaded
  shutdown.begin(mode);
}

/** The arbiter is gone: leave quickly, and take every process this worker started along. */
function onOrphaned(): void {
  setTimeout(() => process.kill(-process.pid, 'SIGKILL'), ORPHAN_GRACE_MS).unref();
  if (shutdown) shutdown.begin('quick');
  else realExit(0);
}

/**
 * Once the app is loaded only the app keeps the process alive — an app that never listens (an
 * empty file caught mid-save) exits, and its boot fails at once rather than at the boot timeout —
 * except a listen waiting for its cue: it holds nothing open, so until it is made the channel
 * keeps the worker alive (`onAwaitingCue`).
 */
function releaseChannel(): void {
  if (loaded && (cued || !waitingForCue?.awaitingCue)) channel.keepAlive(false);
}

let installed = false;

/**
 * What the runtime puts in place before any module of the app's loads — a preloaded one
 * included, so that it sees the process as the app will: its own signal handlers first, the
 * observers of the app's handlers, the framework hooks, `process.argv` as `node APP ARGS`.
 */
function installRuntime(): void {
  if (installed) return;
  installed = true;
  process.on('SIGTERM', () => stop('graceful'));
  process.on('SIGINT', () => stop('quick'));
  process.on('SIGQUIT', () => stop('quick'));
  process.on('SIGABRT', () => {
    // Sent on a heartbeat timeout; if the loop turned, the worker was not frozen after all.
    send({ type: 'notice', level: 'warn', message: 'aborted by the arbiter (heartbeat timeout)' });
    realExit(1);
  });
  process.on('exit', () => {
    reporter.closeAllAtExit();
    // After its hooks, what the app still holds was never closed (a pool it forgot).
    if (shutdown?.stopping) held.atExit();
  });
  process.on('uncaughtExceptionMonitor', (error) => send({ type: 'fatal', error: describeError(error) }));
  process.exit = ((code?: number | string | null) => {
    const numeric = typeof code === 'number' ? code : Number(code ?? process.exitCode ?? 0) || 0;
    if (shutdown?.stopping && shutdownHooks.size > 0) shutdown.exitRequested(numeric);
    else realExit(numeric);
  }) as typeof process.exit;
  handlers.install();
  frameworks.install();
  // `node worker.js APP ARGS` → `node APP ARGS`: what the app (and a cluster.fork() it makes)
  // sees is what `node APP ARGS` gives. APP is the source the user named, a bundle's too.
  if (process.argv[1] === __filename) process.argv.splice(1, 1);
}

async function boot(message: BootMessage): Promise<void> {
  const acceptOnCue = message.acceptOnCue === true && !cueGiven;
  cued = !acceptOnCue;
  if (dependencies) dependencies.app = message.app;
  held.booted(message.listenFds);
  const timing = new BootTiming(message.app);
  const readiness = new Readiness(
    () => {
      send({ type: 'ready', profile: timing.profile() });
      // Once it serves: a long synchronous boot is the boot timeout's business, and is not paused to be read.
      startStallWatch(__filename, message.heartbeatMs);
      dependencies?.reportWhenReady(send);
    },
    // (Not once stopped: a listen made then never runs, and must not hold the worker up.)
    { acceptOnCue, onAwaitingCue: () => cued || channel.keepAlive(true) },
  );
  waitingForCue = readiness;
  servers = new AppServers({
    port: message.port,
    fds: message.listenFds,
    onListening: () => readiness.markListening(),
    deferListen: (listen) => readiness.whenUnheld(listen),
    onServed: () => {
      if (servers!.served === 1) send({ type: 'first-response', at: Date.now() });
      if (message.maxRequests > 0 && servers!.served === message.maxRequests) {
        send({ type: 'retire', reason: `served ${message.maxRequests} requests (max-requests)` });
      }
    },
    notice: (text) => send({ type: 'notice', level: 'warn', message: text }),
    timed: (name, fn) => frameworks.timed(name, fn as never),
  });
  shutdown = new Shutdown({
    // What the app holds as the stop begins is read before any of its shutdown code runs.
    beforeStop: () => {
      held.atStop();
      return frameworks.beforeStop();
    },
    servers,
    reporter,
    handlers,
    shutdownHooks,
    send,
    exit: realExit,
    longLivedGraceMs: message.longLivedGraceMs ?? 1000,
  });

  // The runtime's own handlers go first, before the app can register any.
  installRuntime();
  servers.install();
  protectFds([3, ...message.listenFds], (text) => send({ type: 'notice', level: 'warn', message: text }));
  globalThis.arbiter = {
    onShutdown: (name, fn, options) => shutdownHooks.register(name, fn, options),
    holdReady: (reason) => readiness.hold(reason),
    worker: Object.freeze({ id: message.id, generation: message.generation }),
  };

  startBeating(message.heartbeatMs);

  process.env.PORT = message.port;
  // Node's --env-file rule: the environment the worker was started with wins.
  applyEnvFile(message.env);
  frameworks.setAppDir(dirname(process.argv[1] ?? message.app));
  if (message.sourceMaps) process.setSourceMapsEnabled(true);
  let exported: unknown;
  try {
    exported = await timing.loading(() => loadApp(message.app));
  } catch (error) {
    send({ type: 'boot-error', error: describeLoadError(error, message.app) });
    realExit(EXIT.APP_LOAD_ERROR);
  }
  // From here on only the app keeps the process alive; the channel must not.
  loaded = true;
  releaseChannel();
  if (servers.count === 0) {
    const handler = exportedHandler(exported);
    if (handler) http.createServer(handler as http.RequestListener).listen(message.port);
  }
}

/**
 * Beats from the event loop itself, so a frozen loop stops the beats. A beat is due every
 * `heartbeatMs`; in between, one goes out only when the request counters changed (at most once
 * a second, for the editor's live view), so an idle worker wakes its arbiter rarely.
 */
function startBeating(heartbeatMs: number): void {
  const tickMs = heartbeatMs > 0 ? Math.min(STATS_INTERVAL_MS, heartbeatMs) : STATS_INTERVAL_MS;
  let sentAt = 0;
  let sent = { served: -1, inflight: -1 };
  const beat = (due: boolean) => {
    const { served, inflight } = servers!;
    if (!due && served === sent.served && inflight === sent.inflight) return;
    send({ type: 'heartbeat', served, inflight });
    sentAt = performance.now();
    sent = { served, inflight };
  };
  setInterval(
    () => beat(heartbeatMs > 0 && performance.now() - sentAt >= heartbeatMs - tickMs / 2),
    tickMs,
  ).unref();
  // The last counters, as it exits (the channel writes synchronously): a reload's swap counts
  // what the old worker served to the end (swap-tally.ts).
  process.on('exit', () => beat(false));
}

/** A load error; for a SyntaxError that Node did not locate, esbuild finds the place. */
function describeLoadError(error: unknown, app: string): ErrorInfo {
  const info = describeError(error);
  if (info.file || !(error instanceof SyntaxError)) return info;
  const found = findSyntaxError(app);
  if (!found) return info;
  const { file, line, column } = found;
  return { ...info, file, line, column, stack: `${file}:${line}:${column}\n${info.message}` };
}

function describeError(error: unknown): ErrorInfo {
  if (!(error instanceof Error)) return { message: String(error) };
  const location = locateError(error.stack);
  const stack = userStack(error.stack);
  return { message: `${error.name}: ${error.message}`, ...(stack ? { stack } : {}), ...location };
}
