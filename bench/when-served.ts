/**
 * Fresh-connection GETs every `intervalMs` (at most `maxInFlight` open) until one answers 200
 * with `body`; resolves with when that response ended (performance.now()). Fails at the
 * deadline, or at once if `gaveUp` settles first (the server exited).
 */
import { within } from './deadline';
import { get } from './fresh-get';

export type PollOptions = { intervalMs: number; maxInFlight: number; gaveUp?: Promise<unknown> };

export function whenServed(
  port: number,
  body: string,
  deadlineMs: number,
  options: PollOptions,
): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const served = new Promise<number>((resolveServed, reject) => {
    let inFlight = 0;
    const poll = () => {
      if (inFlight >= options.maxInFlight) return;
      inFlight++;
      get(port, '/').then(
        (response) => {
          inFlight--;
          if (response.status === 200 && response.body === body) resolveServed(performance.now());
        },
        () => inFlight--,
      );
    };
    timer = setInterval(poll, options.intervalMs);
    poll();
    void options.gaveUp?.then(() => reject(new Error(`exited before serving ${JSON.stringify(body)}`)));
  });
  return within(served, deadlineMs, `${JSON.stringify(body)} on :${port}`).finally(() =>
    clearInterval(timer),
  );
}
