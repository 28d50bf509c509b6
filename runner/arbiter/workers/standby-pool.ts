/**
 * Worker processes started ahead of need. Most of a cold worker's boot is Node's own start-up
 * and the worker runtime's load (~50 ms of CPU each, more when several start at once on few
 * cores), and then the app's third-party modules. A standby has done the first part already
 * and, once the serving generation said which modules it loaded, the second too (`preload`):
 * it waits, app not loaded, for its boot message — so a cycle on save costs the project's own
 * modules and the framework's start. Standbys are not workers yet: they have no id, no
 * generation and no events but their own.
 *
 * A standby that dies unused is dropped; if they keep dying (a broken NODE_OPTIONS, a memory
 * limit), the pool gives up and every worker starts cold again, as without it. One whose
 * preload failed is killed and replaced (the caller leaves the failing modules out).
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import {
  CONTROL_FD,
  parseWorkerMessage,
  type PreloadedMessage,
  type PreloadMessage,
} from '../../protocol/control';
import { LineSplitter } from '../../protocol/line-splitter';
import { hasExited } from './worker-process';

/** Standbys that die unused, in a row, before the pool stops starting them. */
const MAX_UNUSED_DEATHS = 3;

/** What a standby holds of the app's dependencies. */
export type PreloadState =
  | { kind: 'bare' }
  | { kind: 'preloading'; modules: number }
  | { kind: 'preloaded'; loaded: number; ms: number };

export type StandbyPoolOptions = {
  spawn: () => ChildProcess;
  /** What a standby is to preload now, if anything. */
  preload: () => PreloadMessage | undefined;
  /** A standby started (its pid, for the orphan reaper). */
  onStarted: (pid: number) => void;
  /** A standby ended without being used: stopped (`reason`), or `died` on its own. */
  onEnded: (pid: number, died?: string, reason?: string) => void;
  onPreloaded: (pid: number, loaded: number, ms: number) => void;
  /** Modules threw in a standby's preload; it is being replaced. */
  onPreloadFailed: (pid: number, failed: NonNullable<PreloadedMessage['failed']>) => void;
  onGaveUp: (reason: string) => void;
};

type Standby = {
  onExit: (code: number | null, signal: NodeJS.Signals | null) => void;
  state: PreloadState;
  stopReading: () => void;
};

/** Which standby to hand out first: the one that holds most (a preloading one's boot waits for it). */
const RANK: Record<PreloadState['kind'], number> = { preloaded: 0, preloading: 1, bare: 2 };

export class StandbyPool {
  private readonly idle = new Map<ChildProcess, Standby>();
  private deaths = 0;
  private gaveUp = false;
  private closing: Promise<void> | undefined;
  private wanted = 0;

  constructor(private readonly options: StandbyPoolOptions) {}

  /** A standby to become a worker, and what it holds; none: the caller starts one cold. */
  take(): { child: ChildProcess; state: PreloadState } | undefined {
    const ranked = [...this.idle].sort(([, a], [, b]) => RANK[a.state.kind] - RANK[b.state.kind]);
    for (const [child, standby] of ranked) {
      this.idle.delete(child);
      child.off('exit', standby.onExit);
      standby.stopReading(); // from here on the worker's own reader has its channel
      if (hasExited(child)) continue;
      this.deaths = 0; // it lived until it was needed
      return { child, state: standby.state };
    }
    return undefined;
  }

  /** Starts standbys until `count` wait, or stops the extra ones. */
  fill(count: number): void {
    this.wanted = count;
    while (this.idle.size > count) void this.discard(this.idle.keys().next().value!);
    while (!this.gaveUp && !this.closing && this.idle.size < count) {
      const child = this.options.spawn();
      const pid = child.pid;
      // Not started now (the project folder gone for a moment, no fds left): the next fill tries
      // again; a cold start meanwhile reports why.
      if (!pid) return;
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        this.idle.get(child)?.stopReading();
        this.idle.delete(child);
        const reason = signal ? `killed by ${signal}` : `exited with code ${code}`;
        this.options.onEnded(pid, reason);
        if (++this.deaths >= MAX_UNUSED_DEATHS) this.giveUp(`standby workers keep dying unused (${reason})`);
      };
      child.once('exit', onExit);
      const stopReading = readControl(child, (message) => this.preloaded(child, message));
      this.idle.set(child, { onExit, state: { kind: 'bare' }, stopReading });
      this.options.onStarted(pid);
      this.preload(child);
    }
  }

  /** Sends the preload to every standby still bare (a set became known after they started). */
  preloadBare(): void {
    for (const child of this.idle.keys()) this.preload(child);
  }

  /** Kills the standbys that preloaded modules (they changed on disk); bare ones stay. */
  discardPreloaded(): void {
    for (const [child, standby] of this.idle)
      if (standby.state.kind !== 'bare') void this.discard(child, 'its preloaded modules changed');
  }

  /** Stops every standby and starts no more; resolves once all are gone (every caller waits). */
  close(): Promise<void> {
    this.closing ??= Promise.all([...this.idle.keys()].map((child) => this.discard(child))).then(
      () => undefined,
    );
    return this.closing;
  }

  private preload(child: ChildProcess): void {
    const standby = this.idle.get(child);
    if (standby?.state.kind !== 'bare') return;
    const message = this.options.preload();
    if (!message) return;
    const control = child.stdio[CONTROL_FD] as Writable | null;
    if (!control?.writable) return;
    control.write(`${JSON.stringify(message)}\n`);
    standby.state = { kind: 'preloading', modules: message.modules.length };
  }

  /** A standby answered its preload: it holds them now, or it is replaced. */
  private preloaded(child: ChildProcess, message: PreloadedMessage): void {
    const standby = this.idle.get(child);
    if (!standby) return;
    if (message.failed?.length) {
      this.options.onPreloadFailed(child.pid ?? 0, message.failed);
      const [first] = message.failed;
      void this.discard(child, `its preload failed (${first!.module}: ${first!.error})`);
      this.fill(this.wanted);
      return;
    }
    standby.state = { kind: 'preloaded', loaded: message.loaded, ms: message.ms };
    this.options.onPreloaded(child.pid ?? 0, message.loaded, message.ms);
  }

  /** Kills a standby (nothing of the app runs in it yet, so nothing is lost). */
  private discard(child: ChildProcess, reason = 'not needed'): Promise<void> {
    const standby = this.idle.get(child);
    this.idle.delete(child);
    if (standby) {
      child.off('exit', standby.onExit);
      standby.stopReading();
    }
    if (hasExited(child)) return Promise.resolve();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => this.options.onEnded(child.pid ?? 0, undefined, reason));
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
    return exited;
  }

  private giveUp(reason: string): void {
    if (this.gaveUp) return;
    this.gaveUp = true;
    this.options.onGaveUp(reason);
  }
}

/** Reads a standby's control channel for its `preloaded` answer, until the returned function is called. */
function readControl(child: ChildProcess, onPreloaded: (message: PreloadedMessage) => void): () => void {
  const control = child.stdio[CONTROL_FD] as (Readable & Writable) | null;
  if (!control) return () => undefined;
  control.setEncoding('utf8');
  control.on('error', () => undefined); // EPIPE once it is gone; its 'exit' reports that
  const lines = new LineSplitter((line) => {
    const parsed = line ? parseWorkerMessage(line) : undefined;
    if (parsed?.ok && parsed.value.type === 'preloaded') onPreloaded(parsed.value);
  });
  const onData = (chunk: string) => lines.push(chunk);
  control.on('data', onData);
  return () => control.off('data', onData);
}
