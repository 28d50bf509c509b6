/**
 * A timer for a wall-clock deadline. Node's timers run on a monotonic clock and may fire a
 * millisecond before `Date.now()` reaches the deadline; a kill "at the graceful timeout" must
 * never come early, so an early wake-up waits out the remainder.
 */
export class Deadline {
  private timer: NodeJS.Timeout;

  constructor(
    readonly at: number,
    private readonly callback: () => void,
  ) {
    this.timer = setTimeout(() => this.check(), Math.max(0, at - Date.now()));
  }

  private check(): void {
    const remaining = this.at - Date.now();
    if (remaining > 0) this.timer = setTimeout(() => this.check(), remaining);
    else this.callback();
  }

  cancel(): void {
    clearTimeout(this.timer);
  }
}
