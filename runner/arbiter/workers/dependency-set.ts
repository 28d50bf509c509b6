/**
 * The third-party modules standbys preload: learned from the workers of the generation that
 * serves (their `dependencies`), forgotten when any of them or a lockfile changed on disk, and
 * without those that failed in a standby's preload (left out from then on). Until a set is
 * known, standbys start bare and workers load their dependencies cold.
 */
import { relative } from 'node:path';
import { firstChange, readStamps, takeStamps, type Stamps } from './dependency-stamps';

type Learned = { generation: number; modules: string[]; stamps: Stamps };

/** Whether a report from `generation` of `modules` replaces what is known: newer, or the same generation's longer list. */
export function replacesKnown(
  known: { generation: number; modules: readonly string[] } | undefined,
  generation: number,
  modules: readonly string[],
): boolean {
  if (modules.length === 0) return false;
  if (!known || generation > known.generation) return true;
  return generation === known.generation && modules.length > known.modules.length;
}

export class DependencySet {
  private learned: Learned | undefined;
  private readonly failing = new Set<string>();
  /** Reports from generations before this one name what was on disk before a change: not learned. */
  private from = 0;
  /** Why there is no set now, for the workers that start cold meanwhile. */
  private why = 'its generation is the first: no dependencies learned yet';

  constructor(private readonly root: string) {}

  /** The modules to preload, if a set is known. */
  get modules(): readonly string[] | undefined {
    return this.learned?.modules;
  }

  /** Why no set is known (meaningful while `modules` is undefined). */
  get coldReason(): string {
    return this.why;
  }

  /** A worker of `generation` reported `modules`; whether the set changed. */
  learn(generation: number, modules: readonly string[]): boolean {
    if (generation < this.from) return false;
    const kept = modules.filter((module) => !this.failing.has(module));
    if (kept.length === 0 && !this.learned) this.why = 'the serving workers loaded no third-party modules';
    if (!replacesKnown(this.learned, generation, kept)) return false;
    this.learned = { generation, modules: kept, stamps: takeStamps(this.root, kept) };
    return true;
  }

  /** Modules that threw in a preload: never preloaded again. */
  exclude(modules: readonly string[]): void {
    for (const module of modules) this.failing.add(module);
    if (this.learned)
      this.learned.modules = this.learned.modules.filter((module) => !this.failing.has(module));
  }

  /**
   * Checks the set against the disk as `generation` starts: if a module or a manifest changed,
   * the set is forgotten until that generation (or a later one) reports its own, and the change
   * is returned, as a reason.
   */
  async checkStale(generation: number): Promise<string | undefined> {
    const learned = this.learned;
    if (!learned) return undefined;
    // The manifests are listed again (one may have appeared); the rest are the files stamped before.
    const now = new Map([...takeStamps(this.root, []), ...(await readStamps([...learned.stamps.keys()]))]);
    const changed = firstChange(learned.stamps, now);
    if (!changed || this.learned !== learned) return undefined;
    const shown = relative(this.root, changed) || changed;
    this.why = `${shown} changed since the dependencies were preloaded`;
    this.learned = undefined;
    this.from = generation;
    return this.why;
  }
}
