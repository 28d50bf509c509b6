/**
 * The signals the arbiter answers, and the Ctrl+C ladder. Node delivers signals on the event
 * loop, between tasks, so each handler runs to completion and only starts asynchronous work:
 * that is the queue gunicorn's arbiter builds by hand.
 */

/** Each signal the arbiter handles, and what it means (the handlers in arbiter.ts say it again, one line each). */
export const ARBITER_SIGNALS = [
  'SIGHUP', // reload
  'SIGTERM', // graceful stop
  'SIGINT', // Ctrl+C: the ladder below
  'SIGQUIT', // quick stop
  'SIGTTIN', // one worker more
  'SIGTTOU', // one worker fewer
  'SIGUSR1', // reopen log files
  'SIGWINCH', // stop the workers, keep the sockets
] as const;
export type ArbiterSignal = (typeof ARBITER_SIGNALS)[number];

/**
 * Listens for every arbiter signal: `received` hears of each first (it is reported), then its
 * handler runs. Returns what stops listening.
 */
export function listenForSignals(
  handlers: Readonly<Record<ArbiterSignal, () => void>>,
  received: (signal: ArbiterSignal) => void,
): () => void {
  const listeners = ARBITER_SIGNALS.map((signal) => {
    const listener = () => {
      received(signal);
      handlers[signal]();
    };
    process.on(signal, listener);
    return () => process.off(signal, listener);
  });
  return () => listeners.forEach((off) => off());
}

/** What a Ctrl+C does: the stop it makes, what it says, and the reason the stop is given. */
export type InterruptStep = {
  stop: 'graceful' | 'quick' | 'kill';
  level: 'info' | 'warn';
  says: string;
  reason: string;
};

/**
 * The Ctrl+C ladder: the first is a graceful stop, the second a quick one, the third (and any
 * after it) kills every worker now. Each says what the next would do.
 */
export function interruptStep(count: number): InterruptStep {
  if (count <= 1)
    return {
      stop: 'graceful',
      level: 'info',
      says: 'Ctrl+C: graceful stop (press Ctrl+C again for a quick stop)',
      reason: 'Ctrl+C',
    };
  if (count === 2)
    return {
      stop: 'quick',
      level: 'warn',
      says: 'Ctrl+C again: quick stop (press Ctrl+C once more to kill the workers now)',
      reason: 'second Ctrl+C',
    };
  return {
    stop: 'kill',
    level: 'warn',
    says: 'Ctrl+C a third time: killing the workers now',
    reason: 'third Ctrl+C',
  };
}

/**
 * A terminal sends WINCH on every resize to its foreground process group: it means "stop all
 * workers" only where nobody could have resized the arbiter (as gunicorn only honours it when
 * daemonized).
 */
export function winchMeansResize(): boolean {
  return Boolean(process.stdout.isTTY || process.stdin.isTTY);
}
