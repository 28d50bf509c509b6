/**
 * Apps that cannot run twice at once — a dev server that keeps a lock (`next dev`: "Another
 * next dev server is already running"), a port of their own besides the arbiter's — fail the
 * second copy at boot, and a graceful cycle is exactly two copies at once. They say so as they
 * fail: that is how the arbiter tells such a failure from a bug in the code (which would fail
 * the same way alone), and then runs them one at a time, as `-w 1 --reload-mode replace`.
 */

import type { Logger } from '../../log/logger';
import type { Reporter } from '../reporter';
import type { LiveConfig } from './live-config';

/** What such a failure says: another copy holds something this one needs. */
const ANOTHER_COPY = [
  /\balready running\b/i,
  /\banother\b.*\b(instance|server|process)\b/i,
  /\bEADDRINUSE\b|\baddress already in use\b/i,
  /\block(file| file)?\b.*\b(held|taken|exists|busy)\b|\bcould not (acquire|obtain) (the )?lock\b/i,
];

/** The line of a failed worker's output or error that says another copy is in the way, if any. */
export function anotherCopyInTheWay(lines: readonly string[]): string | undefined {
  return lines.map((line) => line.trim()).find((line) => ANOTHER_COPY.some((pattern) => pattern.test(line)));
}

/** The parts that running alone changes; each owns what it changes. */
export type RunAloneParts = {
  config: Pick<LiveConfig, 'settings' | 'override'>;
  staffing: { readonly target: number; set: (count: number) => void };
  report: Pick<Reporter, 'workerCount'>;
  log: Logger;
};

/**
 * The app cannot run twice at once (it said so as a second copy failed, `said`): from now on one
 * worker, and cycles stop the old generation before they start the new, as
 * `-w 1 --reload-mode replace` would; said once, with those flags to make it the default.
 */
export function runAlone(said: string, { config, staffing, report, log }: RunAloneParts): void {
  if (config.settings.reloadMode === 'replace' && staffing.target === 1) return;
  log.warn(
    `this app cannot run twice at once ("${said}"): running one worker, and each reload stops it before starting the next (start with -w 1 --reload-mode replace to say so)`,
  );
  config.override({ workers: 1, reloadMode: 'replace' });
  if (staffing.target === 1) return;
  staffing.set(1);
  report.workerCount(1, 'the app cannot run twice at once');
}
