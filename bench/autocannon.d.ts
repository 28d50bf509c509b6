/** The part of autocannon 8's programmatic API the benchmark uses (the package ships no types). */
declare module 'autocannon' {
  namespace autocannon {
    /** Options of one run; the warm-up runs first with the same options and its own overrides. */
    type Options = {
      url: string;
      connections?: number;
      /** Seconds. */
      duration?: number;
      /** Requests in all: the run ends after this many instead of after `duration`. */
      amount?: number;
      pipelining?: number;
      warmup?: { connections?: number; duration?: number };
    };

    /** A distribution as autocannon reports it (requests per second, bytes per second, ms). */
    type Histogram = {
      average: number;
      mean: number;
      stddev: number;
      min: number;
      max: number;
      total: number;
      p50: number;
      p90: number;
      p99: number;
    };

    type Result = {
      /** Seconds actually measured. */
      duration: number;
      requests: Histogram;
      latency: Histogram;
      throughput: Histogram;
      errors: number;
      timeouts: number;
      non2xx: number;
      '2xx': number;
    };
  }

  /** Without a callback the returned tracker is also a promise of the result. */
  function autocannon(options: autocannon.Options): PromiseLike<autocannon.Result>;

  export = autocannon;
}
