/**
 * Breaks reload loops: a file that the app (or anything a cycle sets off) writes on every boot
 * changes during every cycle, and each change starts the next cycle, for ever. No rule by
 * name or content can know every such file, so the arbiter watches for the pattern itself.
 *
 * The rule: a file *echoes* a cycle when it was written (by its mtime, or when the watcher saw
 * it, if that is earlier) while that cycle booted — between its `reload triggered` and its
 * `completed` or `failed`. A
 * file that echoes 3 consecutive cycles is a loop: from then on its changes during a boot are
 * left out (reported once), and a change to it while no cycle boots still counts.
 *
 * Why the boot, and no grace after it: a file the app writes as it starts — at import, or in
 * its listen callback, which Node runs before the worker runtime reports ready — changes inside
 * that window every time. A save that comes after a reload completed never echoes it, however
 * soon: "save, see it reload, save again" is a person at work (or a test), not a loop, and a
 * window of even a second after completion would take someone saving every second while
 * reloads take 50 ms for one. Why 3: once is any save made during a boot (it folds into one
 * follow-up cycle), twice in a row is a quick typist; three boots in a row each changing the
 * same file is the app. What it cannot tell apart by timing: a person whose saves land in three
 * boots in a row (an app that boots for longer than their autosave interval, and someone typing
 * on). So code — the files a worker loads as modules — is never judged a loop: an app rarely
 * rewrites its own code as it boots, and a save of code left out would serve the old code. For
 * other files (templates, JSON) the warning says so, and a save while none boots still counts.
 */
import type { ArbiterEvent } from '../../protocol/events';

/** Modules a worker loads: a person's edits, never a loop (see above). */
const CODE = /\.(?:[cm]?[jt]sx?|py)$/;

/** Consecutive cycles a file must echo to be a loop. */
export const LOOP_CYCLES = 3;

/** Why a looping file's changes are left out (the `watcher.ignored` event's reason). */
export const LOOP_REASON = `changed during each of the last ${LOOP_CYCLES} reloads (a reload loop)`;

/** The one warning line for a looping file (`file` relative to the project), saying how to ignore it for good. */
export function loopWarning(file: string): string {
  return `reload loop: ${file} changed during each of the last ${LOOP_CYCLES} reloads; its changes during a reload are left out from now on (to ignore it always: --ignore '${file}', or add it to .gitignore)`;
}

/**
 * A cycle's boot: from its trigger until it settled — its `reload` completed or failed and, a
 * generation going live at its first ready worker, the rest of its workers booted too (each of
 * them can write what the first one wrote). `settledAt` is undefined while it boots.
 */
type Window = {
  cycle: number;
  generation: number | undefined;
  startedAt: number;
  settledAt: number | undefined;
  /** The cycle's own `reload` has come to an end. */
  reloadEnded: boolean;
  /** Workers of its generation still booting, by id. */
  booting: Set<number>;
};

/** What a batch comes to: the files that start a cycle, and those found looping just now. */
export type BatchVerdict = { files: string[]; looping: string[] };

export class ReloadLoops {
  private cycles = 0;
  /** The last two cycles' windows, the latest first: a batch that opened during one may arrive after the next began. */
  private windows: Window[] = [];
  /** Per file, the last cycle it echoed and how many consecutive cycles up to that one. */
  private readonly echoes = new Map<string, { cycle: number; streak: number }>();
  private readonly looping = new Set<string>();

  /** Follows the event stream: `reload` events and the booting of the cycle's workers mark each cycle's boot. */
  observe(event: ArbiterEvent): void {
    const current = this.windows[0];
    if (event.type === 'reload') {
      if (event.phase === 'triggered') return this.cycleStarted(event.ts, event.generation);
      if (current) current.reloadEnded = true;
      return this.settleIfBooted(event.ts);
    }
    if (current?.generation === undefined) return;
    if (event.type === 'worker.spawned' && event.generation === current.generation) {
      if (current.settledAt === undefined) current.booting.add(event.id);
      return;
    }
    const booted =
      (event.type === 'worker.state' && event.state !== 'booting') || event.type === 'worker.exited';
    if (booted && event.generation === current.generation) {
      current.booting.delete(event.id);
      this.settleIfBooted(event.ts);
    }
  }

  cycleStarted(at: number, generation?: number): void {
    this.cycles++;
    const window: Window = {
      cycle: this.cycles,
      generation,
      startedAt: at,
      settledAt: undefined,
      reloadEnded: false,
      booting: new Set(),
    };
    this.windows = [window, ...this.windows.slice(0, 1)];
    // A streak can still grow by an echo of this cycle or (arriving late) of the previous one,
    // which needs an echo of the one before: older ones are done with.
    for (const [file, echo] of this.echoes) if (echo.cycle < this.cycles - 2) this.echoes.delete(file);
  }

  /** The cycle's boot is over (for a caller that follows no worker events: at once). */
  cycleSettled(at: number): void {
    const current = this.windows[0];
    if (current && current.settledAt === undefined) current.settledAt = at;
  }

  private settleIfBooted(at: number): void {
    const current = this.windows[0];
    if (current?.reloadEnded && current.booting.size === 0) this.cycleSettled(at);
  }

  /**
   * Judges a batch whose first change was seen at `openedAt`. `writtenAt` gives a file's last
   * write time (its mtime), when it can be read: a watcher starved of CPU sees a write late, maybe
   * after the boot that made it ended, and the write's own time is what tells an echo.
   */
  batch(
    files: readonly string[],
    openedAt: number,
    writtenAt: (file: string) => number | undefined = () => undefined,
  ): BatchVerdict {
    const verdict: BatchVerdict = { files: [], looping: [] };
    for (const file of files) {
      const at = Math.min(openedAt, writtenAt(file) ?? Infinity);
      const cycle = this.windows.find(
        (window) => window.startedAt <= at && at <= (window.settledAt ?? Infinity),
      )?.cycle;
      if (cycle === undefined || CODE.test(file)) {
        verdict.files.push(file);
        continue;
      }
      if (this.looping.has(file)) continue;
      const last = this.echoes.get(file);
      const streak = last?.cycle === cycle ? last.streak : last?.cycle === cycle - 1 ? last.streak + 1 : 1;
      this.echoes.set(file, { cycle, streak });
      if (streak < LOOP_CYCLES) {
        verdict.files.push(file);
        continue;
      }
      this.looping.add(file);
      this.echoes.delete(file);
      verdict.looping.push(file);
    }
    return verdict;
  }
}
