/** Throughput under load: autocannon, run in this process, against one server. */
import autocannon from 'autocannon';

/** The same settings for every server measured. */
export const LOAD = { connections: 50, durationSeconds: 10, warmupSeconds: 2 } as const;

export type LoadResult = {
  /** Mean of autocannon's per-second request counts (its "Req/Sec Avg"). */
  requestsPerSecond: number;
  total: number;
  latencyAverageMs: number;
  latencyP99Ms: number;
  /** Connection errors, timeouts and non-2xx responses. */
  failures: number;
};

export async function measureThroughput(port: number): Promise<LoadResult> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/`,
    connections: LOAD.connections,
    duration: LOAD.durationSeconds,
    warmup: { connections: LOAD.connections, duration: LOAD.warmupSeconds },
  });
  return {
    requestsPerSecond: result.requests.average,
    total: result.requests.total,
    latencyAverageMs: result.latency.average,
    latencyP99Ms: result.latency.p99,
    failures: result.errors + result.timeouts + result.non2xx,
  };
}
