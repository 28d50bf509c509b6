/**
 * The words and numbers the tree shows, as pure functions of the model: tested without VS Code.
 */
import { connectionText, leftOpen } from '../../runner/protocol/held-text';
import { describeBootProfile } from '../../runner/protocol/boot-profile-text';
import { frameText, innermostAppFrame, stuckAtText } from '../../runner/protocol/stacks-text';
import type {
  GenerationRow,
  GenerationStatus,
  HookRow,
  ReloadRow,
  ServerModel,
  WorkerRow,
} from '../model/server-model';

/** 950 → "950 ms", 12_400 → "12.4 s", 125_000 → "2 min 5 s". */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function workerLabel(worker: WorkerRow): string {
  return `worker ${worker.id} · pid ${worker.pid}`;
}

export function workerDescription(worker: WorkerRow, now: number): string {
  // "exited (exit code 0)", not "exited · exited (exit code 0)".
  const parts: string[] = worker.exit && worker.exit.reason.startsWith(worker.state) ? [] : [worker.state];
  if (worker.exit) parts.push(worker.exit.reason);
  else if (worker.paused)
    parts.push(
      worker.state === 'draining'
        ? 'paused in the debugger: its stop waits (Kill Worker to end it)'
        : worker.state === 'booting'
          ? 'paused in the debugger: the reload waits for it'
          : 'paused in the debugger: its deadlines wait',
    );
  else if (worker.state === 'draining' && worker.deadline !== undefined)
    parts.push(`killed in ${duration(Math.max(0, worker.deadline - now))} if still running`);
  else parts.push(`up ${duration(now - worker.spawnedAt)}`);
  if (worker.served !== undefined) parts.push(`${worker.served} served`);
  if (worker.inflight) parts.push(`${worker.inflight} in flight`);
  if (worker.lingering?.length) parts.push(`kept alive by ${worker.lingering.join(', ')}`);
  return parts.join(' · ');
}

export function generationDescription(model: ServerModel, row: GenerationRow, now: number): string {
  const status: GenerationStatus = model.statusOf(row);
  const live = row.workers.filter((worker) => !worker.exit).length;
  const deadlines = row.workers
    .filter((w) => w.state === 'draining' && w.deadline && !w.paused)
    .map((w) => w.deadline!);
  const paused = row.workers.filter((w) => w.paused && !w.exit).length;
  const waiting = paused ? ` · ${paused} paused in the debugger` : '';
  const countdown = deadlines.length
    ? ` · ${duration(Math.max(0, Math.min(...deadlines) - now))} to the deadline`
    : '';
  const booting = status === 'serving' ? row.workers.filter((w) => w.state === 'booting').length : 0;
  const joining = booting ? ` · ${booting} still booting` : '';
  return `${status} · ${live} of ${row.workers.length} running${joining}${countdown}${waiting}`;
}

export function hookDescription(hook: HookRow, now: number): string {
  switch (hook.outcome) {
    case 'running':
      return `running for ${duration(now - hook.startedAt)}`;
    case 'ok':
      return `ok in ${duration(hook.durationMs ?? 0)}`;
    case 'error':
      return `failed${hook.durationMs !== undefined ? ` after ${duration(hook.durationMs)}` : ''}: ${hook.error ?? 'error'}`;
    case 'timeout':
      return `timed out${hook.durationMs !== undefined ? ` after ${duration(hook.durationMs)}` : ''}`;
    case 'killed':
      return 'never finished: the worker was killed';
    case 'interrupted':
      return 'never finished: the worker exited';
  }
}

export function reloadLabel(reload: ReloadRow, root: string): string {
  const files = reload.files?.map((file) =>
    file.startsWith(`${root}/`) ? file.slice(root.length + 1) : file,
  );
  const what = files?.length
    ? `${files.slice(0, 2).join(', ')}${files.length > 2 ? ` +${files.length - 2}` : ''}`
    : '';
  return `generation ${reload.generation} ← ${reload.trigger}${what ? ` (${what})` : ''}`;
}

export function reloadDescription(reload: ReloadRow, now: number): string {
  switch (reload.phase) {
    case 'triggered':
      return `booting for ${duration(now - reload.startedAt)}`;
    case 'completed': {
      const env = reload.env ? ` · env: ${reload.env.join(', ')}` : '';
      const { ready, workers } = reload;
      const joined =
        ready !== undefined && workers !== undefined && ready < workers
          ? ` with ${ready} of ${workers} ready`
          : '';
      // The profile says when the save went live and what that waited on; without one (an older
      // runner), the cycle's own duration.
      const swap = reload.swap
        ? ` · swap: old served ${reload.swap.oldServed}, new ${reload.swap.newServed}, ${reload.swap.cut === 0 ? '0 cut ✓' : `${reload.swap.cut} cut`}`
        : '';
      const first = reload.firstResponse
        ? ` · first answer ${Math.round(reload.firstResponse.ms)} ms after the change`
        : '';
      if (reload.profile) return `${describeBootProfile(reload.profile)}${joined}${first}${env}${swap}`;
      return `live in ${duration(reload.durationMs ?? 0)}${joined}${first}${env}${swap}`;
    }
    case 'superseded':
      return `superseded by a newer change after ${duration(reload.durationMs ?? 0)}, before it served`;
    case 'failed': {
      const error = reload.error;
      const where = error?.file ? ` (${error.file.split('/').pop()}:${error.line ?? '?'})` : '';
      return `failed: ${error?.message ?? 'unknown error'}${where}`;
    }
  }
}

export function serverDescription(model: ServerModel, url: string | undefined): string {
  if (model.phase === 'exited')
    return `exited${model.exitCode !== undefined ? ` (code ${model.exitCode})` : ''}`;
  const ready = model.readyCount();
  const parts = [
    model.phase,
    `generation ${model.serving || '–'}`,
    `${ready}/${model.targetWorkers} workers`,
  ];
  if (url) parts.push(url);
  return parts.join(' · ');
}

/** One row under a worker about what it held: a peer's connections from its stop to its end, or what was left. */
export type HeldRow = { label: string; description: string; leak: boolean };

/**
 * What the worker held, compared from its stop to its end: "Redis 127.0.0.1:6379 · 3 → 0 ✓",
 * or a leak, "PostgreSQL 127.0.0.1:5432 · 2 → 2: left open at exit". While it drains, what it
 * held when the stop began.
 */
export function heldRows(worker: WorkerRow): HeldRow[] {
  const { stop, end, killed } = worker.held ?? {};
  const when = killed ? 'held when killed' : 'left open at exit';
  const after = new Map((end?.connections ?? []).map((connection) => [connection.peer, connection.count]));
  const rows: HeldRow[] = (stop?.connections ?? []).map((connection) => {
    const label = connection.service ? `${connection.service} ${connection.peer}` : connection.peer;
    if (!end) return { label, description: `${connection.count} open as its stop began`, leak: false };
    const left = after.get(connection.peer) ?? 0;
    after.delete(connection.peer);
    return left === 0
      ? { label, description: `${connection.count} → 0 ✓`, leak: false }
      : { label, description: `${connection.count} → ${left}: ${when}`, leak: true };
  });
  if (!end) return rows;
  // Connections opened after the stop began, then whatever else it never let go of.
  for (const connection of end.connections.filter((each) => after.has(each.peer)))
    rows.push({
      label: connectionText(connection),
      description: `${when} (opened during the stop)`,
      leak: true,
    });
  for (const text of leftOpen({ ...end, connections: [] }))
    rows.push({ label: text, description: when, leak: true });
  return rows;
}

/** One row under a worker per request: what a drain waits on, or what its kill cut. */
export type RequestRow = { label: string; description: string; cut: boolean };

/**
 * "GET /export · in flight for 12 s" while the worker drains (the age moves on with `now`), or
 * "GET /export · cut by the kill after 12 s"; the ones the report did not list are counted.
 */
export function requestRows(worker: WorkerRow, now: number): RequestRow[] {
  const report = worker.requests;
  if (!report) return [];
  const rows = report.requests.map((request) => {
    const label = `${request.method} ${request.path}`;
    return report.cut
      ? { label, description: `cut by the kill after ${duration(request.ageMs)}`, cut: true }
      : { label, description: `in flight for ${duration(request.ageMs + now - report.at)}`, cut: false };
  });
  const more = report.total - report.requests.length;
  if (more > 0)
    rows.push({
      label: `${more} more request(s)`,
      description: report.cut ? 'cut by the kill' : 'in flight',
      cut: report.cut,
    });
  return rows;
}

/** One row under a worker about what it was doing when it was stuck: where, then the frames around it. */
export type StackRow = { label: string; description: string; tooltip: string };

/** At most this many frames of the stuck thread are shown, besides its headline. */
const STACK_ROWS = 5;

/**
 * "stuck in flusher.py:12 `while not self.cancelled:` in run() (thread flusher)" · "at the graceful
 * timeout", then the calls that led there ("← worker.py:40 in loop"); or, when no stack could be
 * read, why not, with what kept it alive.
 */
export function stackRows(worker: WorkerRow): StackRow[] {
  const stacks = worker.stacks;
  if (!stacks) return [];
  const when = stacks.at === 'stop-timeout' ? 'when its stop timed out' : 'when its heartbeat timed out';
  const stuck = innermostAppFrame(stacks.threads);
  if (!stuck) {
    const alive = stacks.lingering?.length ? `; kept alive by ${stacks.lingering.join(', ')}` : '';
    const why = stacks.unavailable ?? 'no thread had a frame';
    return [{ label: 'stack not read', description: when, tooltip: `${why}${alive}` }];
  }
  const frames = stuck.thread.frames;
  const at = frames.indexOf(stuck.frame);
  const rows: StackRow[] = [
    { label: `stuck in ${stuckAtText(stuck)}`, description: when, tooltip: frames.map(frameText).join('\n') },
  ];
  for (const frame of frames.slice(at + 1, at + 1 + STACK_ROWS))
    rows.push({ label: `← ${frameText(frame)}`, description: '', tooltip: `${frame.file}:${frame.line}` });
  return rows;
}
