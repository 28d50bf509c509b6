/**
 * One worker's deadlines in one object: the boot window, the heartbeat, the stop message's
 * answer, the stop deadline and the grace after a SIGABRT. The arbiter says what happened to
 * the worker (ready, beat, stopping, answered, aborted, paused, resumed, exited); this object
 * keeps the timers and says which one ran out. Nothing outside touches a timer.
 *
 * While a debugger holds the worker at a breakpoint nothing in it runs — no beats, no drain,
 * no answer — so every deadline waits: on resume the boot and heartbeat windows start afresh
 * and a stop gets what was left of its time.
 */
import { stopChanges, type StopMode } from '../../protocol/control';
import type { Settings } from '../../config/settings';
import { Deadline } from './deadline';

/** How long a worker has to answer a stop message before the stop's signal is sent too. */
export const STOP_ANSWER_MS = 100;
/** After a heartbeat timeout's SIGABRT, how long the worker gets before SIGKILL. */
export const ABORT_GRACE_MS = 1_000;

/** The settings the deadlines are made of, read when each is armed (a re-read config applies to the next). */
export type DeadlineSettings = Pick<Settings, 'bootTimeout' | 'timeout' | 'gracefulTimeout' | 'quickTimeout'>;

/** Which deadline ran out. */
export type Expiry =
  /** Not ready within the boot timeout. */
  | { kind: 'boot' }
  /** No heartbeat within the timeout. */
  | { kind: 'heartbeat' }
  /** No answer to the stop message (asked for `reason`): its signal is sent too. */
  | { kind: 'stop-answer'; mode: StopMode; reason: string }
  /** The stop's time ran out: the worker is killed. */
  | { kind: 'stop'; mode: StopMode }
  /** Still alive after the SIGABRT's grace. */
  | { kind: 'abort' };

/** What the worker is waited for: each stage has its own deadlines. */
type Stage = 'booting' | 'ready' | 'stopping' | 'aborting' | 'over';

export class WorkerDeadlines {
  private stage: Stage = 'booting';
  private timer: NodeJS.Timeout | undefined;
  private answerTimer: NodeJS.Timeout | undefined;
  private stopTimer: Deadline | undefined;
  private pausedAt: number | undefined;
  /** Its control channel is gone: no beat can come. */
  private silent = false;
  /** How, and until when (ms since the epoch), the worker was asked to stop. */
  private stop: { mode: StopMode; at: number } | undefined;

  constructor(
    private readonly settings: () => DeadlineSettings,
    private readonly onExpired: (expiry: Expiry) => void,
  ) {
    this.arm();
  }

  get paused(): boolean {
    return this.pausedAt !== undefined;
  }

  get stopMode(): StopMode | undefined {
    return this.stop?.mode;
  }

  /** When a stopping worker is killed, in ms since the epoch. */
  get stopDeadline(): number | undefined {
    return this.stop?.at;
  }

  /** It is ready: the boot window closes, the heartbeat starts. */
  ready(): void {
    if (this.stage !== 'booting') return;
    this.stage = 'ready';
    this.arm();
  }

  /** It beat: the heartbeat window starts again. */
  beat(): void {
    if (this.stage === 'ready' && !this.paused) this.arm();
  }

  /**
   * It was asked to stop in `mode`: the boot and heartbeat windows close (the stop deadline
   * bounds it instead), the answer is awaited, and the deadline is set from now — only ever
   * closer. Returns the deadline, or undefined when the request changes nothing (a graceful
   * stop after a quick one, or any after an abort). `reason` comes back with the answer's expiry.
   */
  stopping(mode: StopMode, reason: string): number | undefined {
    if (this.stage === 'aborting' || this.stage === 'over') return undefined;
    if (!stopChanges(this.stop?.mode, mode)) return undefined;
    const { gracefulTimeout, quickTimeout } = this.settings();
    const seconds = mode === 'graceful' ? gracefulTimeout : quickTimeout;
    const at = Math.min(Date.now() + seconds * 1000, this.stop?.at ?? Infinity);
    this.stop = { mode, at };
    this.stage = 'stopping';
    this.arm();
    // A paused worker cannot answer; once resumed it reads the message it was sent.
    if (!this.paused)
      this.answerTimer = setTimeout(
        () => this.onExpired({ kind: 'stop-answer', mode, reason }),
        STOP_ANSWER_MS,
      );
    return at;
  }

  /** It said it is stopping in `mode`: its stop's signal need not be sent. */
  answered(mode: StopMode): void {
    if (this.stop?.mode === mode) clearTimeout(this.answerTimer);
  }

  /** Its control channel closed while it runs: it cannot beat any more, so no heartbeat is waited for. */
  silenced(): void {
    this.silent = true;
    if (this.stage === 'ready') this.disarm();
  }

  /** It was sent SIGABRT: it gets a grace, then is killed. Nothing else is waited for. */
  aborted(): void {
    if (this.stage === 'over') return;
    this.stage = 'aborting';
    this.arm();
  }

  /** A debugger holds it at a breakpoint: every deadline waits. */
  pause(now = Date.now()): void {
    if (this.paused || this.stage === 'over') return;
    this.pausedAt = now;
    this.disarm();
  }

  /**
   * The debugger let it go: boot and heartbeat windows start afresh, a stop deadline moves by
   * the time it was paused. Returns the moved stop deadline, if it is stopping.
   */
  resume(now = Date.now()): number | undefined {
    if (this.pausedAt === undefined) return undefined;
    const pausedFor = now - this.pausedAt;
    this.pausedAt = undefined;
    if (this.stage === 'stopping' && this.stop) this.stop = { ...this.stop, at: this.stop.at + pausedFor };
    this.arm();
    return this.stage === 'stopping' ? this.stop?.at : undefined;
  }

  /** The process is gone: nothing is waited for any more. */
  over(): void {
    this.stage = 'over';
    this.disarm();
  }

  /** Sets the deadline of the current stage (none while paused); the stop's answer is set by `stopping`. */
  private arm(): void {
    this.disarm();
    if (this.paused) return;
    const settings = this.settings();
    switch (this.stage) {
      case 'booting':
        this.timer = setTimeout(() => this.onExpired({ kind: 'boot' }), settings.bootTimeout * 1000);
        return;
      case 'ready':
        if (settings.timeout > 0 && !this.silent)
          this.timer = setTimeout(() => this.onExpired({ kind: 'heartbeat' }), settings.timeout * 1000);
        return;
      case 'stopping': {
        const stop = this.stop!;
        this.stopTimer = new Deadline(stop.at, () => this.onExpired({ kind: 'stop', mode: stop.mode }));
        return;
      }
      case 'aborting':
        this.timer = setTimeout(() => this.onExpired({ kind: 'abort' }), ABORT_GRACE_MS);
        return;
      case 'over':
        return;
    }
  }

  private disarm(): void {
    clearTimeout(this.timer);
    clearTimeout(this.answerTimer);
    this.stopTimer?.cancel();
    this.timer = this.answerTimer = this.stopTimer = undefined;
  }
}
