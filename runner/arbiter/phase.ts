/**
 * The arbiter's own phase as one pure transition function, as workers/lifecycle.ts is a
 * worker's: the whole table can be read (and tested) in one place.
 *
 *   starting ──served──▶ serving ──cycle──▶ serving, cycling beside ──cycled──▶ serving
 *      │                    │                    └─replace─▶ cycling, replacing ──cycled──▶ serving
 *      │                    │
 *      └──stop / kill───────┴──▶ stopping (graceful ─stop quick─▶ quick; any ─kill─▶ kill) ──halt──▶ halted
 *   starting ──halt──▶ halted (the first generation could not boot)
 */
import { stopChanges, type StopMode } from '../protocol/control';

/**
 * How a cycle runs: the new generation `beside` the old one, which keeps serving; or
 * `replacing`, the old generation stopped first (replace mode), when nothing is respawned.
 */
export type CycleKind = 'beside' | 'replacing';

export type ArbiterPhase =
  /** Binding, booting the first generation. */
  | { kind: 'starting' }
  /** A generation serves; `cycle` is set while a reload prepares and boots the next. */
  | { kind: 'serving'; cycle: CycleKind | undefined }
  /** Every worker was told to stop (`kill`: killed now, the third Ctrl+C); the arbiter halts once all are gone. */
  | { kind: 'stopping'; mode: StopMode | 'kill' }
  /** Everything is stopped and reported; nothing more happens. */
  | { kind: 'halted' };

export type PhaseInput =
  /** The first generation is up. */
  | { kind: 'served' }
  /** A reload starts. */
  | { kind: 'cycle' }
  /** The reload stops the old generation before it boots the new one. */
  | { kind: 'replace' }
  /** The reload ended, well or not. */
  | { kind: 'cycled' }
  | { kind: 'stop'; mode: StopMode }
  | { kind: 'kill' }
  /** The last worker is gone (or none could boot): the arbiter exits. */
  | { kind: 'halt' };

/** The phase after `input`, or `undefined` when the input does not apply (the caller ignores it). */
export function nextPhase(phase: ArbiterPhase, input: PhaseInput): ArbiterPhase | undefined {
  switch (phase.kind) {
    case 'starting':
      switch (input.kind) {
        case 'served':
          return { kind: 'serving', cycle: undefined };
        case 'stop':
          return { kind: 'stopping', mode: input.mode };
        case 'kill':
          return { kind: 'stopping', mode: 'kill' };
        case 'halt':
          return { kind: 'halted' };
        case 'cycle':
        case 'replace':
        case 'cycled':
          return undefined; // a reload asked for while starting waits for the first generation
      }
      break;
    case 'serving':
      switch (input.kind) {
        case 'cycle':
          return phase.cycle ? undefined : { kind: 'serving', cycle: 'beside' };
        case 'replace':
          return phase.cycle === 'beside' ? { kind: 'serving', cycle: 'replacing' } : undefined;
        case 'cycled':
          return phase.cycle ? { kind: 'serving', cycle: undefined } : undefined;
        case 'stop':
          return { kind: 'stopping', mode: input.mode };
        case 'kill':
          return { kind: 'stopping', mode: 'kill' };
        case 'served':
        case 'halt':
          return undefined;
      }
      break;
    case 'stopping':
      switch (input.kind) {
        case 'stop':
          return phase.mode !== 'kill' && stopChanges(phase.mode, input.mode)
            ? { kind: 'stopping', mode: input.mode }
            : undefined;
        case 'kill':
          return phase.mode === 'kill' ? undefined : { kind: 'stopping', mode: 'kill' };
        case 'halt':
          return { kind: 'halted' };
        case 'served':
        case 'cycle':
        case 'replace':
        case 'cycled':
          return undefined;
      }
      break;
    case 'halted':
      return undefined;
  }
}

/** Stopping or halted: nothing new may start. */
export const isStopping = (phase: ArbiterPhase): boolean =>
  phase.kind === 'stopping' || phase.kind === 'halted';

/** Whether lost workers are replaced now: serving, unless a replace cycle is stopping the old generation. */
export const replacesWorkers = (phase: ArbiterPhase): boolean =>
  phase.kind === 'serving' && phase.cycle !== 'replacing';

/** Whether standbys may be started: serving with no cycle (they would take CPU from the workers it waits for). */
export const startsStandbys = (phase: ArbiterPhase): boolean => phase.kind === 'serving' && !phase.cycle;
