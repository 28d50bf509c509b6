/**
 * A generation's boot profile: where the time from a save to the new code serving went. It is
 * the first ready worker's — the one that made the generation live — put together from what the
 * arbiter saw (the batch, the build, when the worker was taken and when it was ready) and what
 * only the worker could see (its deps, its own code, the framework's start; `ready.profile`).
 */
import type { ChildProcess } from 'node:child_process';
import type { WorkerBootProfile } from '../../protocol/control';
import type { BootProfile, DepsProfile } from '../../protocol/events';
import type { ReloadRequest } from '../intake/reload-requests';
import type { BuildFacts } from './generation-builds';

/** What the profile is made of; times are epoch ms as the arbiter took them. */
export type ProfileFacts = {
  /** When the cycle began (the trigger, for a cycle no batch of saves started). */
  cycleStartedAt: number;
  batch?: { openedAt: number; closedAt: number } | undefined;
  build?: BuildFacts | undefined;
  worker: {
    id: number;
    /** When it became this generation's worker (taken from the standbys, or started). */
    spawnedAt: number;
    readyAt: number;
    warm: boolean;
    profile?: WorkerBootProfile | undefined;
    /**
     * What its standby answered when asked to preload the app's third-party modules, where it
     * was: those the worker then found loaded. The worker sees CommonJS modules already loaded
     * itself; ES modules only the standby's answer can tell.
     */
    preloaded?: { modules: number } | undefined;
  };
};

export function assembleBootProfile(facts: ProfileFacts): BootProfile {
  const { batch, build, worker } = facts;
  const from = batch?.openedAt ?? facts.cycleStartedAt;
  const inWorker = worker.profile?.bootMs ?? 0;
  // The arbiter's clock has whole milliseconds, the build's and the worker's finer ones: a part
  // never claims more than the span it happened in, so the parts add up to at most the whole.
  const beforeSpawn = Math.max(0, worker.spawnedAt - (batch?.closedAt ?? facts.cycleStartedAt));
  const profile: BootProfile = {
    liveMs: 0,
    ...(batch ? { batchMs: Math.max(0, batch.closedAt - batch.openedAt) } : {}),
    ...(build ? { buildMs: Math.min(build.ms, beforeSpawn) } : {}),
    ...(build?.transformed !== undefined ? { transformed: build.transformed } : {}),
    process: { warm: worker.warm, ms: round(Math.max(0, worker.readyAt - worker.spawnedAt - inWorker)) },
    ...(worker.profile
      ? { deps: depsOf(worker), codeMs: worker.profile.codeMs, listenMs: worker.profile.listenMs }
      : {}),
    worker: worker.id,
  };
  // A worker whose boot took all but a fraction of its span can claim a millisecond more than
  // the arbiter's whole-millisecond clock saw: the whole is then what the parts add up to.
  profile.liveMs = Math.max(worker.readyAt - from, Math.ceil(partsOf(profile) * 10) / 10);
  return profile;
}

/** The worker's deps, warm with the standby's count where the standby preloaded them. */
function depsOf({ profile, preloaded }: ProfileFacts['worker']): DepsProfile | undefined {
  if (!preloaded || preloaded.modules === 0) return profile?.deps;
  return { ...profile?.deps, warm: true, modules: preloaded.modules };
}

/** What the parts of `profile` add up to (the worker's boot, not its own set-up, included). */
export function partsOf(profile: BootProfile): number {
  const { batchMs = 0, buildMs = 0, process, deps, codeMs = 0, listenMs = 0 } = profile;
  return batchMs + buildMs + process.ms + (deps?.ms ?? 0) + codeMs + listenMs;
}

/** The worker of `generation` that was ready first. */
export function firstReady<W extends { generation: number; readyAt: number | undefined }>(
  workers: Iterable<W>,
  generation: number,
): W | undefined {
  let first: W | undefined;
  for (const worker of workers)
    if (worker.generation === generation && worker.readyAt !== undefined)
      if (!first || worker.readyAt < first.readyAt!) first = worker;
  return first;
}

type ProfiledWorker = {
  id: number;
  generation: number;
  child: ChildProcess;
  spawnedAt: number;
  readyAt: number | undefined;
  bootProfile: WorkerBootProfile | undefined;
};

/** The profile of a cycle's generation, from its live workers; none when none of them was ready. */
export function generationProfile(
  cycle: { generation: number; request: ReloadRequest; startedAt: number },
  workers: Iterable<ProfiledWorker>,
  builds: { factsOf(generation: number): BuildFacts | undefined },
  spawner: { wasStandby(child: ChildProcess): boolean; preloadedBy(pid: number): number | undefined },
): BootProfile | undefined {
  const first = firstReady(workers, cycle.generation);
  if (!first) return undefined;
  return assembleBootProfile({
    cycleStartedAt: cycle.startedAt,
    batch: cycle.request.batch,
    build: builds.factsOf(cycle.generation),
    worker: {
      id: first.id,
      spawnedAt: first.spawnedAt,
      readyAt: first.readyAt!,
      warm: spawner.wasStandby(first.child),
      profile: first.bootProfile,
      preloaded: preloadedOf(first.child.pid && spawner.preloadedBy(first.child.pid)),
    },
  });
}

const preloadedOf = (modules: number | undefined) => (modules ? { modules } : undefined);

const round = (ms: number) => Math.floor(ms * 10) / 10;
