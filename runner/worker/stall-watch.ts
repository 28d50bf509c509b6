/**
 * Says where a busy main thread is stuck. The control channel is read on the main thread, so a
 * busy loop cannot answer the arbiter's `stacks`; a small worker thread watches a counter the
 * main thread's event loop moves, and once it stood still for a while (stallReportMs) reads the main
 * thread's stack through an in-process inspector session (`connectToMainThread`: V8 interrupts
 * the busy code to serve it, and no inspector port is opened) and writes it to the channel
 * itself, as an unasked `stacks` message. The arbiter keeps that until the main thread speaks
 * again, and reports it when a deadline runs out.
 *
 * Reading pauses the main thread for a moment (Debugger.pause, then resume), so it is done once
 * per stall, and again at most every STALL_REPEAT_MS while the stall lasts. Never while the
 * worker's inspector is open: a debugger the user attached may hold it at a breakpoint (which
 * also stops the loop), and resuming would let it go.
 */
import { Worker } from 'node:worker_threads';
import { CONTROL_FD, STALL_REPORT_MS } from '../protocol/control';
import { STACK_FRAME_LIMIT } from '../protocol/events';

/** The longest a stall lasts before it is read, however long the heartbeat timeout. */
const STALL_REPORT_MAX_MS = 5_000;
/** While a stall lasts, how often its stack is read again. */
const STALL_REPEAT_MS = 5_000;
/** How often the main thread's loop moves the counter, and the watcher looks at it. */
const TICK_MS = 200;

/** The main thread's own answer to `stacks`: it read the message, so it is waiting, not busy. */
export const IDLE_MAIN_THREAD =
  'its main thread is idle, waiting in the event loop: what keeps the process alive is what it holds open';

/** [0]: moved by every tick of the main thread's loop; [1]: 1 while the worker's inspector is open. */
let shared: Int32Array | undefined;
/** Opened before the watcher started (the editor attached while it booted). */
let inspectorOpen = false;
/** The watcher thread, while it runs. */
let watcher: Worker | undefined;

/**
 * How long the main thread stands still before its stack is read: half the heartbeat timeout
 * (the arbiter beats every quarter of it), so that a read is there when the timeout comes and a
 * long piece of synchronous work well within it is left alone; between STALL_REPORT_MS and
 * STALL_REPORT_MAX_MS, so that a stuck stop has one too.
 */
export function stallReportMs(heartbeatMs: number): number {
  if (heartbeatMs <= 0) return STALL_REPORT_MS;
  return Math.min(STALL_REPORT_MAX_MS, Math.max(STALL_REPORT_MS, heartbeatMs * 2));
}

/** Starts the watcher thread (once), for a worker that beats every `heartbeatMs`; it never keeps the process alive. */
export function startStallWatch(runtimeFile: string, heartbeatMs: number): void {
  if (shared) return;
  shared = new Int32Array(new SharedArrayBuffer(8));
  const beat = shared;
  if (inspectorOpen) Atomics.store(beat, 1, 1);
  setInterval(() => Atomics.add(beat, 0, 1), TICK_MS).unref();
  // A debugger reads the main thread itself, and would show the watcher as a thread of the app.
  if (inspectorOpen) return;
  try {
    watcher = new Worker(WATCHER, {
      eval: true,
      workerData: {
        shared: beat,
        fd: CONTROL_FD,
        stallMs: stallReportMs(heartbeatMs),
        repeatMs: STALL_REPEAT_MS,
        tickMs: TICK_MS,
        frameLimit: STACK_FRAME_LIMIT,
        runtimeFile,
      },
    });
    watcher.unref();
    watcher.on('error', () => undefined); // a Node without the inspector: no stall reports
  } catch {
    // Worker threads unavailable: no stall reports, and the arbiter says it has none.
  }
}

/** The worker's inspector opened: a debugger may pause the main thread, which is no stall to read. */
export function inspectorOpened(): void {
  inspectorOpen = true;
  if (shared) Atomics.store(shared, 1, 1);
  // Gone before a debugger connects: js-debug attaches to every worker thread it finds, and a
  // session with the watcher's thread in it did not end on Disconnect (the VS Code suite's attach test).
  void watcher?.terminate();
  watcher = undefined;
}

/**
 * The watcher thread's code, plain JavaScript run with `eval` (no bundle of its own). Its writes
 * go straight to the channel's fd with writeSync: a worker thread's console goes through the
 * main thread, which is the one that is stuck.
 */
const WATCHER = `
const { workerData } = require('node:worker_threads');
const { Session } = require('node:inspector');
const { writeSync } = require('node:fs');
const { shared, fd, stallMs, repeatMs, tickMs, frameLimit, runtimeFile } = workerData;
let seen = Atomics.load(shared, 0);
let movedAt = Date.now();
let readAt = 0;
let reading = false;

setInterval(() => {
  const now = Date.now();
  const turn = Atomics.load(shared, 0);
  if (turn !== seen) { seen = turn; movedAt = now; readAt = 0; return; }
  const stalled = now - movedAt;
  if (reading || stalled < stallMs || now - readAt < repeatMs) return;
  reading = true;
  readAt = now;
  const inspecting = Atomics.load(shared, 1) === 1;
  (inspecting ? Promise.resolve(leftToDebugger(stalled)) : read(stalled)).then((message) => {
    reading = false;
    if (Atomics.load(shared, 0) !== seen) return; // it moved on meanwhile: nothing to say
    try { writeSync(fd, JSON.stringify(message) + '\\n'); } catch {}
  });
}, tickMs);

function leftToDebugger(stalledMs) {
  const unavailable = 'its inspector is open, so its stall watcher leaves it alone (a debugger may hold it at a breakpoint): the debugger attached to it shows where it is';
  return { type: 'stacks', stalledMs, threads: [], unavailable };
}

function post(session, method, params) {
  return new Promise((resolve, reject) =>
    session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
}

async function read(stalledMs) {
  const session = new Session();
  try {
    session.connectToMainThread();
    // A paused frame's url is often empty: each script's comes with its scriptParsed, at enable.
    const urls = new Map();
    session.on('Debugger.scriptParsed', (m) => urls.set(m.params.scriptId, m.params.url));
    const paused = new Promise((resolve, reject) => {
      session.once('Debugger.paused', (m) => resolve(m.params));
      setTimeout(() => reject(new Error('it did not pause within 1 s')), 1000);
    });
    await post(session, 'Debugger.enable');
    await post(session, 'Debugger.pause');
    const { callFrames } = await paused;
    const sources = new Map();
    const frames = [];
    for (const call of callFrames) {
      if (frames.length >= frameLimit) break;
      const url = call.url || urls.get(call.location.scriptId) || '';
      const file = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
      if (file === runtimeFile) continue;
      const line = call.location.lineNumber + 1;
      const frame = { file, line, function: call.functionName };
      if (frames.length < 5) {
        if (!sources.has(call.location.scriptId))
          sources.set(call.location.scriptId, await post(session, 'Debugger.getScriptSource', { scriptId: call.location.scriptId })
            .then((r) => r.scriptSource.split('\\n'), () => []));
        const text = (sources.get(call.location.scriptId)[line - 1] || '').trim();
        if (text) frame.source = text.slice(0, 200);
      }
      frames.push(frame);
    }
    return { type: 'stacks', stalledMs, threads: [{ name: 'main', main: true, frames }] };
  } catch (error) {
    return { type: 'stacks', stalledMs, threads: [], unavailable: 'its inspector could not read the main thread: ' + error.message };
  } finally {
    // Whatever happened, the main thread runs on: resumed, the debugger off, the session gone.
    await post(session, 'Debugger.resume').catch(() => undefined);
    await post(session, 'Debugger.disable').catch(() => undefined);
    try { session.disconnect(); } catch {}
  }
}
`;
