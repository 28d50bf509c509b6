/**
 * Fresh-connection GETs every `intervalMs` (at most `maxInFlight` open) until one answers 200
 * (or `status`) with `body` (the whole body, or a pattern of it); resolves with when that
 * response ended (performance.now()). Fails at the deadline, or at once if `gaveUp` settles
 * first (the server exited).
 */
import { within } from './deadline';
import { get } from './fresh-get';

export type PollOptions = {
  intervalMs: number;
  maxInFlight: number;
  gaveUp?: Promise<unknown>;
  /** What is asked for [/]. */
  path?: string;
  /** The status that counts [200]. */
  status?: number;
};

export function whenServed(
  port: number,
  body: string | RegExp,
  deadlineMs: number,
  options: PollOptions,
): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const shown = typeof body === 'string' ? JSON.stringify(body) : String(body);
  const served = new Promise<number>((resolveServed, reject) => {
    let inFlight = 0;
    const poll = () => {
      if (inFlight >= options.maxInFlight) return;
      inFlight++;
      get(port, options.path ?? '/').then(
        (response) => {
          inFlight--;
          const matches = typeof body === 'string' ? response.body === body : body.test(response.body);
          if (response.status === (options.status ?? 200) && matches) resolveServed(performance.now());
        },
        () => inFlight--,
      );
    };
    timer = setInterval(poll, options.intervalMs);
    poll();
    void options.gaveUp?.then(() => reject(new Error(`exited before serving ${shown}`)));
  });
  return within(served, deadlineMs, `${shown} on :${port}`).finally(() => clearInterval(timer));
}
