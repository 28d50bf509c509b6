/**
 * Reload requests. A cycle runs to its end once started; what is asked for meanwhile (more
 * saves, a HUP) waits and is folded into one follow-up cycle, so a burst of saves costs one
 * more cycle, not one per save.
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

/** The one follow-up cycle waiting for the current one to end. */
export class PendingReload {
  private pending: ReloadRequest | undefined;

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
