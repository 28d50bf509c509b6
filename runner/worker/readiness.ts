/**
 * When a worker is ready: once its app listens on the shared socket(s) and, for apps that
 * opted in with `arbiter.holdReady()`, once every hold is released (a cache is warm, the
 * database is connected); a listen() made while a hold is active waits for it. The arbiter's
 * boot timeout bounds the wait either way.
 *
 * A worker booted to accept on cue (the first of a new generation, while the old one still
 * accepts) is ready once its app asked to listen; the listen itself waits for the arbiter's
 * `accept`, so that no connection reaches new code while old code can still take the next.
 */
export class Readiness {
  private listening = false;
  private sent = false;
  private cued: boolean;
  private readonly holds = new Set<symbol>();
  private readonly afterHolds: (() => void)[] = [];
  private readonly afterCue: (() => void)[] = [];

  constructor(
    private readonly onReady: () => void,
    {
      acceptOnCue = false,
      onAwaitingCue,
    }: {
      acceptOnCue?: boolean | undefined;
      /** A listen now waits for the cue: it holds nothing open, so something else must keep the process up. */
      onAwaitingCue?: (() => void) | undefined;
    } = {},
  ) {
    this.cued = !acceptOnCue;
    this.onAwaitingCue = onAwaitingCue;
  }

  private readonly onAwaitingCue: (() => void) | undefined;

  /** Whether a listen waits for the cue. */
  get awaitingCue(): boolean {
    return this.afterCue.length > 0;
  }

  /** Defers readiness until the returned function is called (once; later calls do nothing). */
  hold(reason = 'the app asked to wait'): () => void {
    if (this.sent) return () => undefined;
    const token = Symbol(reason);
    this.holds.add(token);
    return () => {
      this.holds.delete(token);
      if (this.holds.size === 0) for (const run of this.afterHolds.splice(0)) run();
      this.check();
    };
  }

  /**
   * Runs `listen` now, or once every hold is released and the cue given: a worker that listens
   * on the shared socket is handed connections at once, so it must not listen before it is ready.
   */
  whenUnheld(listen: () => void): void {
    if (this.holds.size === 0) this.whenCued(listen);
    else this.afterHolds.push(() => this.whenCued(listen));
  }

  /** The arbiter's `accept`: the listens waiting for it run now, later ones at once. */
  accept(): void {
    this.cued = true;
    for (const listen of this.afterCue.splice(0)) listen();
  }

  markListening(): void {
    this.listening = true;
    this.check();
  }

  private whenCued(listen: () => void): void {
    if (this.cued) return listen();
    this.afterCue.push(listen);
    this.onAwaitingCue?.();
    this.markListening(); // it would listen now: ready, and accepting at the cue
  }

  private check(): void {
    if (this.sent || !this.listening || this.holds.size > 0) return;
    this.sent = true;
    this.onReady();
  }
}
