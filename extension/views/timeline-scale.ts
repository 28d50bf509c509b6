/**
 * The timeline's time axis, with its quiet stretches drawn narrow: a worker that served for a
 * minute between its boot and its stop would otherwise leave both as slivers at the edges. A
 * stretch in which nothing happened (no state change, signal, hook, takeover) for longer than
 * BREAK_MIN_MS becomes a break of a fixed width, marked as such; everything else keeps its
 * proportions. Pure: times in, fractions of the width out.
 */

/** A stretch of time in which nothing happened, drawn narrow (epoch ms). */
export type Break = { from: number; to: number };

/** Quiet for longer than this is drawn as a break. */
export const BREAK_MIN_MS = 2_000;
/** Kept at full scale on each side of a break, so that what happened next to it reads. */
export const BREAK_KEEP_MS = 300;
/** The width one break takes, as a fraction of the whole. */
export const BREAK_SHARE = 0.04;
/** At most this much of the width goes to breaks, however many there are. */
const BREAKS_AT_MOST = 0.4;

/** The quiet stretches between `moments` (when something happened), inside start…end. */
export function quietStretches(moments: readonly number[], start: number, end: number): Break[] {
  const sorted = [...new Set(moments)].filter((t) => t >= start && t <= end).sort((a, b) => a - b);
  const breaks: Break[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1]!, sorted[i]!];
    if (b - a > BREAK_MIN_MS + 2 * BREAK_KEEP_MS)
      breaks.push({ from: a + BREAK_KEEP_MS, to: b - BREAK_KEEP_MS });
  }
  return breaks;
}

/** Where `t` is drawn, from 0 (start) to 1 (end); a time past either edge is drawn at it. */
export function timeScale(start: number, end: number, breaks: readonly Break[]): (t: number) => number {
  const share = Math.min(BREAK_SHARE, breaks.length ? BREAKS_AT_MOST / breaks.length : 0);
  const quiet = breaks.reduce((sum, each) => sum + (each.to - each.from), 0);
  const shown = Math.max(end - start - quiet, 1);
  const perMs = (1 - share * breaks.length) / shown;
  return (t) => {
    const at = Math.min(Math.max(t, start), end);
    let x = 0;
    let cursor = start;
    for (const each of breaks) {
      if (at <= each.from) return x + (at - cursor) * perMs;
      x += (each.from - cursor) * perMs;
      if (at < each.to) return x + ((at - each.from) / (each.to - each.from)) * share;
      x += share;
      cursor = each.to;
    }
    return Math.min(1, x + (at - cursor) * perMs);
  };
}

/** How much time the axis shows at full scale: the whole, less its breaks. */
export function shownMs(start: number, end: number, breaks: readonly Break[]): number {
  return end - start - breaks.reduce((sum, each) => sum + (each.to - each.from), 0);
}
