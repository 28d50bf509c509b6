/**
 * When a worker is ready: once its app listens on the shared socket(s) and, for apps that
 * opted in with `arbiter.holdReady()`, once every hold is released (a cache is warm, the
 * database is connected); a listen() made while a hold is active waits for it. The arbiter's
 * boot timeout bounds the wait either way.
 */
export class Readiness {
  private listening = false;
  private sent = false;
  private readonly holds = new Set<symbol>();
  private readonly afterHolds: (() => void)[] = [];

  constructor(private readonly onReady: () => void) {}

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
   * Runs `listen` now, or once every hold is released: a worker that listens on the shared
   * socket is handed connections at once, so it must not listen before it is ready.
   */
  whenUnheld(listen: () => void): void {
    if (this.holds.size === 0) listen();
    else this.afterHolds.push(listen);
  }

  markListening(): void {
    this.listening = true;
    this.check();
  }

  private check(): void {
    if (this.sent || !this.listening || this.holds.size > 0) return;
    this.sent = true;
    this.onReady();
  }
}
