/**
 * Reload requests. What is asked for while a cycle runs (more saves, a HUP) waits and is folded
 * into one follow-up cycle, so a burst of saves costs one more cycle, not one per save. A cycle
 * whose generation is not live yet is superseded by what waits: its code is stale, and the newer
 * code boots at once instead of after it. Never more than `SUPERSEDE_LIMIT` in a row, so that
 * saves coming faster than the app boots (or a code file its boot writes) still go live.
 */

/** Why a cycle runs and what it must re-read. */
export type ReloadRequest = {
  /** What asked, as the event stream says it: 'file change', 'SIGHUP'. */
  trigger: string;
  /** The files that changed (a file change). */
  files?: string[];
  /** Re-read the config file (HUP, or the config file changed). */
  rereadConfig?: boolean;
  /** The watcher's batch (epoch ms): its first file event, and when it closed. */
  batch?: { openedAt: number; closedAt: number };
};

/** Two reload requests as one: the files of both, the config re-read if either asked. */
export function foldReload(pending: ReloadRequest | undefined, next: ReloadRequest): ReloadRequest {
  if (!pending) return next;
  const files = [...new Set([...(pending.files ?? []), ...(next.files ?? [])])];
  return {
    trigger: pending.trigger === next.trigger ? next.trigger : `${pending.trigger}, ${next.trigger}`,
    ...(files.length ? { files } : {}),
    rereadConfig: Boolean(pending.rereadConfig || next.rereadConfig),
    // The first save waited longest: the generation goes live for it too.
    ...((pending.batch ?? next.batch) ? { batch: pending.batch ?? next.batch } : {}),
  };
}

/** Generations superseded in a row at most: the next one boots to the end whatever is asked meanwhile. */
export const SUPERSEDE_LIMIT = 2;

/** The one follow-up cycle waiting for the current one to end. */
export class PendingReload {
  private pending: ReloadRequest | undefined;
  private supersededInARow = 0;

  /** Whether what waits may supersede the generation booting now. */
  get supersedes(): boolean {
    return this.pending !== undefined && this.supersededInARow < SUPERSEDE_LIMIT;
  }

  /** A cycle ended: superseded (one more in a row), or otherwise (the count starts again). */
  ended(superseded: boolean): void {
    this.supersededInARow = superseded ? this.supersededInARow + 1 : 0;
  }

  add(request: ReloadRequest): void {
    this.pending = foldReload(this.pending, request);
  }

  /** Puts `request` first: the same cycle again (run alone), before what was asked meanwhile. */
  retry(request: ReloadRequest): void {
    this.pending = foldReload(request, this.pending ?? { trigger: request.trigger });
  }

  /** The waiting request, handed out once. */
  take(): ReloadRequest | undefined {
    const pending = this.pending;
    this.pending = undefined;
    return pending;
  }
}
