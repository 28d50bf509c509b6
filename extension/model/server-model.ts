/**
 * What one arbiter is doing, folded from its event stream: generations and their workers, the
 * signals each worker got, every hook run, every reload. Pure data, no `vscode`: the tree, the
 * status bar and the tests all read the same model, and a unit test can build it from a list
 * of events.
 */
import type {
  ArbiterEvent,
  BootProfile,
  ErrorInfo,
  EventOf,
  HeldResources,
  HookOutcome,
  InFlightRequest,
  Listener,
  WorkerState,
} from '../../runner/protocol/events';

/** Retired generations kept for the tree besides the serving and the booting one. */
export const RETIRED_GENERATIONS_KEPT = 3;
/** Reload rows kept. */
export const RELOADS_KEPT = 20;

export type SignalRow = { ts: number; signal: string; reason: string; via?: 'message' | 'os' };

export type HookRow = {
  name: string;
  startedAt: number;
  /** `running` until its end event. */
  outcome: HookOutcome | 'running';
  durationMs?: number;
  /** When its end was told (the arbiter's clock, as `startedAt` is). */
  endedAt?: number;
  error?: string;
};

export type WorkerRow = {
  id: number;
  pid: number;
  generation: number;
  state: WorkerState;
  /** Why it is in that state, as the runner said. */
  reason: string;
  /** When it entered that state. */
  since: number;
  /** Every state it was in, from when (the timeline's lane). */
  states: { state: WorkerState; at: number }[];
  spawnedAt: number;
  /** When a draining worker will be killed (epoch ms). */
  deadline?: number;
  served?: number;
  inflight?: number;
  /** What kept it alive after its shutdown work. */
  lingering?: string[];
  /** What it held when its stop began, and at its end: as it exited, or as it was killed. */
  held?: { stop?: HeldResources; end?: HeldResources; killed?: boolean };
  /** What it was doing when a deadline ran out (its stop's, its heartbeat's), read before the kill or abort. */
  stacks?: Omit<EventOf<'worker.stacks'>, 'v' | 'id' | 'pid' | 'generation' | 'type'>;
  /** While it drains, the requests it waits on (`at`: when that was said); or those its kill cut. */
  requests?: { requests: InFlightRequest[]; total: number; at: number; cut: boolean };
  exit?: { code: number | null; signal: string | null; reason: string; at: number };
  /** Its inspector, once opened (a debugger attaches to `port`), or why it could not open. */
  inspector?: { url: string; port: number } | { error: string };
  /** Stopped at a breakpoint: its deadlines wait. */
  paused?: boolean;
  signals: SignalRow[];
  hooks: HookRow[];
};

export type GenerationStatus = 'booting' | 'serving' | 'draining' | 'retired' | 'failed';

export type GenerationRow = { generation: number; workers: WorkerRow[] };

export type ReloadRow = {
  generation: number;
  trigger: string;
  files?: string[];
  phase: EventOf<'reload'>['phase'];
  startedAt: number;
  durationMs?: number;
  error?: ErrorInfo;
  /** The env-file variables the cycle changed, by name. */
  env?: string[];
  /** Once the old generation is gone: what each side served meanwhile, and what a kill cut. */
  swap?: { oldServed: number; newServed: number; cut: number };
  /** How many of its workers were ready when it went live (at the first; the rest join as they boot). */
  ready?: number;
  workers?: number;
  /** Completed: where the new generation's boot spent its time. */
  profile?: BootProfile;
  /** When the new code first answered: from the change, and from when it went live. */
  firstResponse?: { ms: number; afterLiveMs: number };
};

export type ServerPhase = 'starting' | 'running' | 'stopping' | 'exited';

export class ServerModel {
  phase: ServerPhase = 'starting';
  pid: number | undefined;
  listeners: Listener[] = [];
  /** The generation that serves (0 until the first is ready). */
  serving = 0;
  targetWorkers = 0;
  exitCode: number | undefined;
  watching: EventOf<'watcher.ready'> | undefined;
  readonly generations = new Map<number, GenerationRow>();
  readonly reloads: ReloadRow[] = [];
  /** Signals the arbiter itself received (Ctrl+C, HUP, …). */
  readonly arbiterSignals: SignalRow[] = [];
  /** Arbiter-side hook runs (config-file hooks). */
  readonly arbiterHooks: HookRow[] = [];
  /**
   * Events that never reached the model (the stream fell behind and the arbiter dropped them,
   * then said so with `events.gap`): what it shows may be out of date until workers report again.
   */
  eventsDropped = 0;
  /** Events applied so far; a tree refresh compares this to know whether anything changed. */
  version = 0;

  private readonly workersByPid = new Map<number, WorkerRow>();

  apply(event: ArbiterEvent): void {
    this.version++;
    switch (event.type) {
      case 'arbiter.started':
        this.pid = event.pid;
        this.listeners = event.listeners;
        this.targetWorkers = event.config.workers;
        return;
      case 'worker.spawned':
        return void this.addWorker(event);
      case 'worker.state':
        return this.workerState(event);
      case 'worker.stats': {
        const worker = this.workersByPid.get(event.pid);
        if (worker) Object.assign(worker, { served: event.served, inflight: event.inflight });
        return;
      }
      case 'worker.lingering': {
        const worker = this.workersByPid.get(event.pid);
        if (worker) worker.lingering = event.resources;
        return;
      }
      case 'worker.resources': {
        const worker = this.workersByPid.get(event.pid);
        if (!worker) return;
        worker.held ??= {};
        if (event.at === 'stop') worker.held.stop = event.held;
        else Object.assign(worker.held, { end: event.held, killed: event.at === 'kill' });
        return;
      }
      case 'worker.stacks': {
        const worker = this.workersByPid.get(event.pid);
        if (worker)
          worker.stacks = {
            ts: event.ts,
            at: event.at,
            threads: event.threads,
            unavailable: event.unavailable,
            lingering: event.lingering,
          };
        return;
      }
      case 'worker.requests': {
        const worker = this.workersByPid.get(event.pid);
        if (worker)
          worker.requests = {
            requests: event.requests,
            total: event.total,
            at: event.ts,
            cut: event.at === 'cut',
          };
        return;
      }
      case 'worker.exited':
        return this.workerExited(event);
      case 'worker.inspector': {
        const worker = this.workersByPid.get(event.pid);
        if (worker)
          worker.inspector =
            event.url && event.port
              ? { url: event.url, port: event.port }
              : { error: event.error ?? 'unknown' };
        return;
      }
      case 'worker.paused': {
        const worker = this.workersByPid.get(event.pid);
        if (worker) worker.paused = event.paused;
        return;
      }
      case 'signal':
        return this.signal(event);
      case 'hook':
        return this.hook(event);
      case 'reload':
        return this.reload(event);
      case 'reload.first-response': {
        const row = this.reloads.find((reload) => reload.generation === event.generation);
        if (row) row.firstResponse = { ms: event.ms, afterLiveMs: event.afterLiveMs };
        return;
      }
      case 'reload.swap': {
        const row = this.reloads.find((reload) => reload.generation === event.generation);
        if (row) row.swap = { oldServed: event.oldServed, newServed: event.newServed, cut: event.cut };
        return;
      }
      case 'arbiter.workers':
        this.targetWorkers = event.count;
        return;
      case 'watcher.ready':
        this.watching = event;
        return;
      case 'standby':
      case 'worker.deps':
      case 'watcher.ignored':
        return;
      case 'events.gap':
        this.eventsDropped += event.dropped;
        return;
      case 'arbiter.exited':
        this.phase = 'exited';
        this.exitCode = event.code;
        return;
    }
  }

  /**
   * The arbiter ended without saying so (killed, crashed): its workers end with it (they leave
   * when their control channel closes; its orphan reaper kills what does not), so none is shown
   * as still serving.
   */
  arbiterGone(how: string, at = Date.now()): void {
    if (this.phase === 'exited') return;
    this.version++;
    this.phase = 'exited';
    for (const worker of this.liveWorkers()) {
      worker.state = 'exited';
      worker.since = at;
      worker.exit = { code: null, signal: null, reason: `ended with the arbiter, which ${how}`, at };
      worker.states.push({ state: 'exited', at });
      // Its end never came: the worker went with the arbiter.
      for (const hook of worker.hooks) if (hook.outcome === 'running') hook.outcome = 'interrupted';
    }
  }

  /** How many workers of the serving generation are ready (the "2/2" the status bar and the tree show). */
  readyCount(): number {
    return (
      this.generations.get(this.serving)?.workers.filter((worker) => worker.state === 'ready').length ?? 0
    );
  }

  /** Generations, the newest first: booting, serving, then the last few retired ones. */
  generationList(): GenerationRow[] {
    return [...this.generations.values()].sort((a, b) => b.generation - a.generation);
  }

  statusOf(row: GenerationRow): GenerationStatus {
    const states = row.workers.map((worker) => worker.state);
    if (row.generation === this.serving && this.phase !== 'exited') return 'serving';
    if (states.some((state) => state === 'booting' || state === 'ready')) {
      return row.generation > this.serving ? 'booting' : 'serving';
    }
    if (states.includes('draining')) return 'draining';
    if (row.workers.length > 0 && states.every((state) => state === 'boot-failed')) return 'failed';
    return 'retired';
  }

  worker(pid: number): WorkerRow | undefined {
    return this.workersByPid.get(pid);
  }

  /** Workers that run now (not exited), of every generation. */
  liveWorkers(): WorkerRow[] {
    return [...this.workersByPid.values()].filter((worker) => !worker.exit);
  }

  private addWorker(event: EventOf<'worker.spawned'>): WorkerRow {
    const worker: WorkerRow = {
      id: event.id,
      pid: event.pid,
      generation: event.generation,
      state: 'booting',
      reason: `generation ${event.generation}`,
      since: event.ts,
      spawnedAt: event.ts,
      states: [{ state: 'booting', at: event.ts }],
      signals: [],
      hooks: [],
    };
    this.workersByPid.set(event.pid, worker);
    let generation = this.generations.get(event.generation);
    if (!generation) {
      generation = { generation: event.generation, workers: [] };
      this.generations.set(event.generation, generation);
      this.forgetOldGenerations();
    }
    generation.workers.push(worker);
    return worker;
  }

  private workerState(event: EventOf<'worker.state'>): void {
    const worker = this.workersByPid.get(event.pid) ?? this.addWorker({ ...event, type: 'worker.spawned' });
    worker.state = event.state;
    worker.reason = event.reason;
    worker.since = event.ts;
    worker.states.push({ state: event.state, at: event.ts });
    if (event.deadline !== undefined) worker.deadline = event.deadline;
    if (event.state === 'ready' && this.serving === 0) {
      this.serving = event.generation;
      this.phase = 'running';
    }
  }

  private workerExited(event: EventOf<'worker.exited'>): void {
    const worker = this.workersByPid.get(event.pid);
    if (!worker) return;
    worker.state = event.state;
    worker.exit = { code: event.code, signal: event.signal, reason: event.reason, at: event.ts };
    worker.since = event.ts;
    worker.states.push({ state: event.state, at: event.ts });
    worker.inflight = 0;
    worker.paused = false;
    // What it was still serving ended with it; only what a kill cut stays to be seen.
    if (worker.requests && !worker.requests.cut) delete worker.requests;
    for (const hook of worker.hooks) {
      // Its end never came: the worker was gone first.
      if (hook.outcome === 'running') hook.outcome = worker.state === 'killed' ? 'killed' : 'interrupted';
    }
    this.forgetOldGenerations();
  }

  private signal(event: EventOf<'signal'>): void {
    const row: SignalRow = {
      ts: event.ts,
      signal: event.signal,
      reason: event.reason,
      ...(event.via ? { via: event.via } : {}),
    };
    if (event.direction === 'received') {
      this.arbiterSignals.push(row);
      if (event.signal === 'SIGTERM' || event.signal === 'SIGINT' || event.signal === 'SIGQUIT')
        this.phase = this.phase === 'exited' ? 'exited' : 'stopping';
      return;
    }
    this.workersByPid.get(event.pid)?.signals.push(row);
  }

  private hook(event: EventOf<'hook'>): void {
    const list =
      event.scope === 'arbiter' ? this.arbiterHooks : (this.workersByPid.get(event.pid)?.hooks ?? undefined);
    if (!list) return;
    if (event.phase === 'start') {
      list.push({ name: event.name, startedAt: event.ts, outcome: 'running' });
      return;
    }
    const open = [...list].reverse().find((hook) => hook.name === event.name && hook.outcome === 'running');
    const hook = open ?? { name: event.name, startedAt: event.ts, outcome: 'running' };
    if (!open) list.push(hook);
    hook.outcome = event.outcome ?? 'ok';
    hook.endedAt = event.ts;
    if (event.durationMs !== undefined) hook.durationMs = event.durationMs;
    if (event.error !== undefined) hook.error = event.error;
  }

  private reload(event: EventOf<'reload'>): void {
    if (event.phase === 'triggered') {
      this.reloads.unshift({
        generation: event.generation,
        trigger: event.trigger,
        phase: 'triggered',
        startedAt: event.ts,
        ...(event.files ? { files: event.files } : {}),
      });
      this.reloads.splice(RELOADS_KEPT);
      return;
    }
    const row = this.reloads.find((reload) => reload.generation === event.generation);
    if (row) {
      row.phase = event.phase;
      if (event.durationMs !== undefined) row.durationMs = event.durationMs;
      if (event.error) row.error = event.error;
      if (event.env) row.env = event.env;
      if (event.ready !== undefined) row.ready = event.ready;
      if (event.workers !== undefined) row.workers = event.workers;
      if (event.profile) row.profile = event.profile;
    }
    if (event.phase === 'completed') {
      this.serving = event.generation;
      this.forgetOldGenerations();
    }
  }

  /** Keeps the newest generations: the serving one, anything newer, and a few retired ones. */
  private forgetOldGenerations(): void {
    const old = [...this.generations.keys()]
      .filter((generation) => generation < this.serving)
      .sort((a, b) => b - a);
    for (const generation of old.slice(RETIRED_GENERATIONS_KEPT)) {
      const row = this.generations.get(generation)!;
      if (row.workers.some((worker) => !worker.exit)) continue; // still draining: keep showing it
      for (const worker of row.workers) this.workersByPid.delete(worker.pid);
      this.generations.delete(generation);
    }
  }
}
