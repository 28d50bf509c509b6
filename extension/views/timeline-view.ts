/**
 * What the timeline draws, computed from the server's model: one lane per worker over time —
 * its states as bars, the signals it got as markers (with how each travelled), its hooks as
 * nested bars by outcome, its kill deadline, what it held before and after — and the moments a
 * new generation took over. Pure, no `vscode` and no HTML: timeline-html.ts draws it, a unit
 * test reads it.
 */
import { WORKER_STATES, type HookOutcome, type WorkerState } from '../../runner/protocol/events';
import type { HookRow, ServerModel, SignalRow, WorkerRow } from '../model/server-model';
import { duration, heldRows } from './describe';
import { quietStretches, type Break } from './timeline-scale';

/** What the timeline is about: everything the model keeps, one reload, or one worker's generation. */
export type TimelineFocus =
  { kind: 'all' } | { kind: 'reload'; generation: number } | { kind: 'worker'; pid: number };

/** A stretch of time, epoch ms. */
export type Span = { from: number; to: number };
export type StateBar = Span & { state: WorkerState; text: string; open: boolean };
export type HookBar = Span & { name: string; outcome: HookOutcome | 'running'; depth: number; text: string };
export type Marker = { at: number; kind: 'signal' | 'deadline' | 'end'; text: string };
export type HeldLine = { text: string; leak: boolean };

export type Lane = {
  key: string;
  /** "worker 3 · gen 2" */
  title: string;
  generation: number;
  states: StateBar[];
  hooks: HookBar[];
  markers: Marker[];
  held: HeldLine[];
  /** The whole lane in words, for a screen reader. */
  summary: string;
};

export type Takeover = { at: number; generation: number; text: string };

export type TimelineView = {
  title: string;
  start: number;
  end: number;
  /** Stretches in which nothing happened, drawn narrow (timeline-scale.ts). */
  breaks: Break[];
  lanes: Lane[];
  takeovers: Takeover[];
  /** Said instead of lanes when there is nothing to draw. */
  empty?: string;
};

/** Whether something is under way in `model`: a worker boots or drains, a hook runs. */
export function underway(model: ServerModel): boolean {
  for (const row of model.generations.values())
    for (const worker of row.workers) {
      if (!worker.exit && (worker.state === 'booting' || worker.state === 'draining')) return true;
      if (worker.hooks.some((hook) => hook.outcome === 'running')) return true;
    }
  return false;
}

/** A lane's states: `booting` onwards until an end state, which is a marker, not a bar. */
const END_STATES = new Set<WorkerState>(WORKER_STATES.slice(WORKER_STATES.indexOf('exited')));
/** Before the first worker and after the last event, so that an edge reads as an edge. */
const PAD_MS = 150;

export function timelineOf(
  model: ServerModel,
  focus: TimelineFocus,
  now: number,
  name: string,
): TimelineView {
  const workers = focusedWorkers(model, focus);
  const lanes = workers.map((worker) => laneOf(worker, now));
  const takeovers = model.reloads
    .filter((reload) => reload.phase === 'completed' && reload.durationMs !== undefined)
    .map((reload) => ({
      at: reload.startedAt + reload.durationMs!,
      generation: reload.generation,
      text: `generation ${reload.generation} took over (${reload.trigger}, live ${duration(reload.durationMs!)} after the change)`,
    }));
  const title = `${name}: ${focusTitle(focus, workers)}`;
  if (lanes.length === 0)
    return {
      title,
      start: now - 1_000,
      end: now,
      lanes,
      takeovers: [],
      breaks: [],
      empty: 'No worker to show yet.',
    };
  // The window is what happened: to the last thing that did, or to now while something is
  // under way (a boot, a drain, a hook). A worker that just serves on is drawn to the edge.
  const underway = lanes.some(
    (lane) =>
      lane.states.some((bar) => bar.open && bar.state !== 'ready') ||
      lane.hooks.some((hook) => hook.outcome === 'running'),
  );
  const times = lanes.flatMap((lane) => [
    ...(underway ? [now] : []),
    ...lane.states.flatMap((bar) => (bar.open ? [bar.from] : [bar.from, bar.to])),
    ...lane.hooks.map((hook) => hook.to),
    // A kill deadline far ahead would squash everything else to the left: the window is what
    // happened, and a deadline beyond it is drawn at its edge (timeline-html.ts).
    ...lane.markers.filter((marker) => marker.kind !== 'deadline').map((marker) => marker.at),
  ]);
  const start = Math.min(...times) - PAD_MS;
  const end = Math.max(...times) + PAD_MS;
  // Every takeover in the window: the one that made these workers serve, and the one that retired them.
  const within = takeovers.filter((takeover) => takeover.at >= start && takeover.at <= end);
  const moments = [
    start + PAD_MS,
    end - PAD_MS,
    ...times,
    ...lanes.flatMap((lane) => [
      ...lane.hooks.map((hook) => hook.from),
      ...lane.markers.map((marker) => marker.at),
    ]),
    ...within.map((takeover) => takeover.at),
  ];
  return { title, start, end, lanes, takeovers: within, breaks: quietStretches(moments, start, end) };
}

function focusedWorkers(model: ServerModel, focus: TimelineFocus): WorkerRow[] {
  const all = [...model.generations.values()]
    .sort((a, b) => a.generation - b.generation)
    .flatMap((row) => row.workers);
  switch (focus.kind) {
    case 'all':
      return all;
    case 'worker': {
      const generation = all.find((worker) => worker.pid === focus.pid)?.generation;
      return all.filter((worker) => worker.generation === generation);
    }
    case 'reload': {
      // The new generation's workers, and the workers it took over from: those alive as it began.
      const reload = model.reloads.find((row) => row.generation === focus.generation);
      const began = reload?.startedAt ?? 0;
      return all.filter(
        (worker) =>
          worker.generation === focus.generation ||
          (worker.generation < focus.generation && (worker.exit?.at ?? Infinity) >= began),
      );
    }
  }
}

function focusTitle(focus: TimelineFocus, workers: WorkerRow[]): string {
  switch (focus.kind) {
    case 'all':
      return 'every worker kept';
    case 'reload':
      return `the reload to generation ${focus.generation}`;
    case 'worker':
      return `generation ${workers[0]?.generation ?? '?'} (worker pid ${focus.pid})`;
  }
}

function laneOf(worker: WorkerRow, now: number): Lane {
  const end = worker.exit?.at ?? now;
  const live = worker.states.filter((entry) => !END_STATES.has(entry.state));
  const states = live.map(({ state, at }, index): StateBar => {
    const next = live[index + 1]?.at ?? end;
    const open = index === live.length - 1 && !worker.exit;
    return {
      state,
      from: at,
      to: next,
      open,
      text: `${state} for ${duration(next - at)}${open ? ', still' : ''}`,
    };
  });
  const markers: Marker[] = worker.signals.map((signal) => signalMarker(signal));
  if (worker.deadline !== undefined)
    markers.push({
      at: worker.deadline,
      kind: 'deadline',
      text: `kill deadline (${duration(worker.deadline - (drainStart(worker) ?? worker.deadline))} after the stop began)`,
    });
  if (worker.exit)
    markers.push({ at: worker.exit.at, kind: 'end', text: `${worker.state}: ${exitText(worker.exit)}` });
  const hooks = stackHooks(worker.hooks, end);
  const held = heldRows(worker).map((row) => ({ text: `${row.label} · ${row.description}`, leak: row.leak }));
  const title = `worker ${worker.id} · gen ${worker.generation}`;
  const summary = [
    `worker ${worker.id}, pid ${worker.pid}, generation ${worker.generation}`,
    states.map((bar) => bar.text).join(', '),
    ...markers.map((marker) => marker.text),
    ...hooks.map((hook) => hook.text),
    ...held.map((line) => line.text),
  ]
    .filter(Boolean)
    .join('; ');
  return {
    key: `${worker.generation}/${worker.pid}`,
    title,
    generation: worker.generation,
    states,
    hooks,
    markers,
    held,
    summary,
  };
}

function drainStart(worker: WorkerRow): number | undefined {
  return worker.states.find((entry) => entry.state === 'draining')?.at;
}

function signalMarker(signal: SignalRow): Marker {
  const via =
    signal.via === 'message' ? ' via the control channel' : signal.via === 'os' ? ' as an OS signal' : '';
  return { at: signal.ts, kind: 'signal', text: `${signal.signal}${via}: ${signal.reason}` };
}

function exitText(exit: NonNullable<WorkerRow['exit']>): string {
  const how = exit.signal ? `by ${exit.signal}` : `code ${exit.code ?? '?'}`;
  return exit.reason ? `${how}, ${exit.reason}` : how;
}

/**
 * Hooks as bars, each on the first row below the state bar that is free when it starts: a hook
 * run inside another's time (a worker's nested cleanups) sits under it.
 */
function stackHooks(hooks: HookRow[], end: number): HookBar[] {
  const rowsFreeAt: number[] = [];
  return [...hooks]
    .sort((a, b) => a.startedAt - b.startedAt)
    .map((hook) => {
      // Start and end as the arbiter was told them: one worker's hooks in turn never overlap.
      const to = hook.endedAt ?? (hook.durationMs !== undefined ? hook.startedAt + hook.durationMs : end);
      let depth = rowsFreeAt.findIndex((free) => free <= hook.startedAt);
      if (depth === -1) depth = rowsFreeAt.length;
      rowsFreeAt[depth] = to;
      return {
        name: hook.name,
        outcome: hook.outcome,
        from: hook.startedAt,
        to,
        depth,
        text: hookText(hook, to),
      };
    });
}

function hookText(hook: HookRow, to: number): string {
  const took = duration(hook.durationMs ?? to - hook.startedAt);
  switch (hook.outcome) {
    case 'running':
      return `hook ${hook.name}: running for ${took}`;
    case 'ok':
      return `hook ${hook.name}: ok in ${took}`;
    case 'error':
      return `hook ${hook.name}: failed after ${took}${hook.error ? `: ${hook.error}` : ''}`;
    case 'timeout':
      return `hook ${hook.name}: timed out after ${took}`;
    case 'killed':
      return `hook ${hook.name}: never finished, the worker was killed after ${took}`;
    case 'interrupted':
      return `hook ${hook.name}: never finished, the worker exited after ${took}`;
  }
}
