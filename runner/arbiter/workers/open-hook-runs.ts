/**
 * The hook runs a worker started and has not ended, by run number: when the worker's process
 * ends first, each gets the `end` it never sent (killed, or interrupted by the exit), so no
 * hook shows as running for ever.
 */
export type OpenRun = { readonly name: string; readonly startedAt: number };

export class OpenHookRuns {
  private readonly runs = new Map<number, OpenRun>();

  started(run: number, name: string, at = Date.now()): void {
    this.runs.set(run, { name, startedAt: at });
  }

  ended(run: number): void {
    this.runs.delete(run);
  }

  /** The runs still open, each handed out once: they are forgotten. */
  cutShort(): OpenRun[] {
    const open = [...this.runs.values()];
    this.runs.clear();
    return open;
  }
}
