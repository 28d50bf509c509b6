/** Turns the figures of one benchmark run into bench/results.md. */
import type { LoadResult } from './load';
import type { MemorySnapshot } from './measure';
import type { ReloadSample } from './reload';
import { mean, median, megabytes, percentile } from './stats';

/** One load run, and the CPU (% of one core) each process used during it. */
export type LoadRun = LoadResult & {
  cpu: { supervisor: number; loadGenerator: number; workers: number[]; others: number; steal: number };
  /** Which attempt this is: a run disturbed by other load is measured again. */
  attempts: number;
  /** Share of the requests each worker served (arbiter only: from its worker.stats events). */
  split?: number[];
};

/** Everything one run measured. */
export type Figures = {
  arbiterRuns: LoadRun[];
  clusterRuns: LoadRun[];
  idle: { arbiter: number; workers: number[]; seconds: number };
  arbiterMemory: { boot: MemorySnapshot; afterLoad: MemorySnapshot[]; afterReloads: MemorySnapshot };
  clusterMemory: { boot: MemorySnapshot; afterLoad: MemorySnapshot[] };
  reloads: ReloadSample[];
  /** Reloads with no polling, timed by the event alone. */
  quietReloads: ReloadSample[];
  /** Exit code of each arbiter on its graceful stop (SIGTERM); 0 expected. */
  arbiterExitCodes: (number | null)[];
  elapsedSeconds: number;
};

/** The machine and the settings, for the header and the notes. */
export type Setting = {
  date: string;
  node: string;
  cpu: string;
  cores: number;
  memoryBytes: number;
  kernel: string;
  clockTicks: number;
  load: { connections: number; durationSeconds: number; warmupSeconds: number };
  workers: number;
  reloads: number;
  /** Pause between a server being ready and the first measurement. */
  settleSeconds: number;
  /** Other load (% of one core) above which a load run is measured again. */
  disturbedPercent: number;
};

const MB = 1024 * 1024;
const RSS_TARGET_BYTES = 60 * MB;
const THROUGHPUT_TARGET = 0.95;
/** What counts as "~0 %" of a core for an idle arbiter. */
const IDLE_TARGET_PERCENT = 0.5;

const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : '—');
const ratio = (a: number, b: number): string => (b > 0 ? (a / b).toFixed(2) : '—');
const percent = (value: number): string => `${fixed(value, 2)} %`;
const verdict = (ok: boolean): string => (ok ? 'met' : '**not met**');
const row = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;

function loadRows(figures: Figures): string[] {
  const rows: string[] = [];
  const count = Math.max(figures.arbiterRuns.length, figures.clusterRuns.length);
  for (let i = 0; i < count; i++) {
    for (const [name, run] of [
      ['arbiter', figures.arbiterRuns[i]],
      ['Node cluster', figures.clusterRuns[i]],
    ] as const) {
      if (!run) continue;
      rows.push(
        row([
          String(rows.length + 1),
          run.attempts > 1 ? `${name} (attempt ${run.attempts})` : name,
          String(Math.round(run.requestsPerSecond)),
          String(run.total),
          fixed(run.latencyAverageMs, 2),
          String(run.latencyP99Ms),
          String(run.failures),
          fixed(run.cpu.supervisor, 2),
          fixed(run.cpu.loadGenerator, 0),
          run.cpu.workers.map((value) => fixed(value, 0)).join(' / '),
          fixed(run.cpu.others, 0),
          fixed(run.cpu.steal, 0),
          run.split ? run.split.map((share) => `${Math.round(share * 100)} %`).join(' / ') : 'round-robin',
        ]),
      );
    }
  }
  return rows;
}

function busyWarning(figures: Figures, limit: number): string {
  const runs = [...figures.arbiterRuns, ...figures.clusterRuns];
  const worst = Math.max(...runs.map((run) => run.cpu.others + run.cpu.steal));
  if (worst <= limit) return '';
  return `> **The machine was not quiet**: during at least one load run, other processes and the
> hypervisor took ${fixed(worst, 0)} % of a core (see the CPU others and steal columns). Treat the
> throughput figures with care, or run the benchmark again on a quiet machine.

`;
}

const spread = (runs: readonly LoadResult[]): string => {
  const values = runs.map((run) => Math.round(run.requestsPerSecond));
  return `${Math.min(...values)}–${Math.max(...values)}`;
};

function reloadRows(figures: Figures): string[] {
  const line = (label: string, values: number[]) =>
    row([
      label,
      String(values.length),
      fixed(Math.min(...values)),
      fixed(median(values)),
      fixed(percentile(values, 95)),
      fixed(Math.max(...values)),
    ]);
  const { reloads, quietReloads } = figures;
  return [
    line(
      '`reload` completed event received, with polling',
      reloads.map((s) => s.completedMs),
    ),
    line(
      'first response from a new-generation worker, with polling',
      reloads.map((s) => s.firstNewResponseMs),
    ),
    line(
      "the arbiter's own `durationMs`, with polling",
      reloads.map((s) => s.reportedMs),
    ),
    line(
      '`reload` completed event received, no polling',
      quietReloads.map((s) => s.completedMs),
    ),
    line(
      "the arbiter's own `durationMs`, no polling",
      quietReloads.map((s) => s.reportedMs),
    ),
  ];
}

/** A command line short enough for a table cell: basenames, and no inline script. */
function label(command: string): string {
  return command
    .split(' -c ')[0]!
    .split(' ')
    .map((arg) =>
      arg.startsWith('/') && !arg.startsWith('/dev/') ? arg.slice(arg.lastIndexOf('/') + 1) : arg,
    )
    .join(' ')
    .concat(command.includes(' -c ') ? ' -c (orphan reaper script)' : '');
}

function treeRows(snapshot: MemorySnapshot | undefined): string[] {
  return (snapshot?.members ?? []).map((member) =>
    row([String(member.pid), `\`${label(member.command)}\``, megabytes(member.bytes)]),
  );
}

export function renderReport(figures: Figures, setting: Setting): string {
  const arbiterRps = mean(figures.arbiterRuns.map((run) => run.requestsPerSecond));
  const clusterRps = mean(figures.clusterRuns.map((run) => run.requestsPerSecond));
  const latency = (runs: LoadResult[], pick: (run: LoadResult) => number) => mean(runs.map(pick));
  const arbiterLatency = latency(figures.arbiterRuns, (run) => run.latencyAverageMs);
  const clusterLatency = latency(figures.clusterRuns, (run) => run.latencyAverageMs);
  const arbiterP99 = latency(figures.arbiterRuns, (run) => run.latencyP99Ms);
  const clusterP99 = latency(figures.clusterRuns, (run) => run.latencyP99Ms);
  const arbiterAfterLoad = Math.max(...figures.arbiterMemory.afterLoad.map((m) => m.rootBytes));
  const clusterAfterLoad = Math.max(...figures.clusterMemory.afterLoad.map((m) => m.rootBytes));
  const arbiterTree = Math.max(...figures.arbiterMemory.afterLoad.map((m) => m.treeBytes));
  const clusterTree = Math.max(...figures.clusterMemory.afterLoad.map((m) => m.treeBytes));
  const completed = figures.reloads.map((sample) => sample.completedMs);
  const firstNew = figures.reloads.map((sample) => sample.firstNewResponseMs);
  const quiet = figures.quietReloads.map((sample) => sample.completedMs);
  const polls = figures.reloads.reduce((sum, sample) => sum + sample.polls, 0);
  const failedPolls = figures.reloads.reduce((sum, sample) => sum + sample.failedPolls, 0);
  const throughputRatio = arbiterRps / clusterRps;
  const efficiency = (runs: readonly LoadRun[]) =>
    mean(runs.map((run) => run.requestsPerSecond / (run.cpu.workers.reduce((a, b) => a + b, 0) / 100)));
  const arbiterEfficiency = efficiency(figures.arbiterRuns);
  const clusterEfficiency = efficiency(figures.clusterRuns);
  const idleTicks = (1 / setting.clockTicks / figures.idle.seconds) * 100;
  const { connections, durationSeconds, warmupSeconds } = setting.load;
  const lastArbiterTree = figures.arbiterMemory.afterLoad.at(-1);
  const lastClusterTree = figures.clusterMemory.afterLoad.at(-1);

  return `# Benchmark: arbiter vs. Node cluster

Generated by \`npm run bench\` (bench/run.ts) on ${setting.date}, in ${fixed(figures.elapsedSeconds, 0)} s.

Machine: ${setting.cpu}, **${setting.cores} cores**, ${fixed(setting.memoryBytes / 1024 / MB)} GB RAM,
${setting.kernel}, Node ${setting.node}, autocannon 8.0.0.

${busyWarning(figures, setting.disturbedPercent)}## Summary

| measure | arbiter | Node cluster | arbiter / cluster | target |
|---|---:|---:|---:|---|
${[
  row([
    `requests/s, hello world, ${setting.workers} workers (mean of ${figures.arbiterRuns.length} + ${figures.clusterRuns.length} runs)`,
    String(Math.round(arbiterRps)),
    String(Math.round(clusterRps)),
    `**${ratio(arbiterRps, clusterRps)}**`,
    `≥ ${THROUGHPUT_TARGET}: ${verdict(throughputRatio >= THROUGHPUT_TARGET)}`,
  ]),
  row([
    'requests per CPU-second of the workers (throughput per unit of CPU the workers got)',
    String(Math.round(arbiterEfficiency)),
    String(Math.round(clusterEfficiency)),
    ratio(arbiterEfficiency, clusterEfficiency),
    'information',
  ]),
  row([
    'latency, mean (ms)',
    fixed(arbiterLatency, 2),
    fixed(clusterLatency, 2),
    ratio(arbiterLatency, clusterLatency),
    '',
  ]),
  row(['latency, p99 (ms)', fixed(arbiterP99), fixed(clusterP99), ratio(arbiterP99, clusterP99), '']),
  row([
    'supervisor CPU during the load runs (% of one core: arbiter / cluster primary)',
    percent(mean(figures.arbiterRuns.map((run) => run.cpu.supervisor))),
    percent(mean(figures.clusterRuns.map((run) => run.cpu.supervisor))),
    '',
    '',
  ]),
  row([
    `arbiter idle CPU, arbiter process only (% of one core, ${figures.idle.seconds} s)`,
    percent(figures.idle.arbiter),
    '',
    '',
    `~0 % (≤ ${IDLE_TARGET_PERCENT} %): ${verdict(figures.idle.arbiter <= IDLE_TARGET_PERCENT)}`,
  ]),
  row([
    `idle CPU of each worker (% of one core, same ${figures.idle.seconds} s)`,
    figures.idle.workers.map(percent).join(' / '),
    '',
    '',
    '',
  ]),
  row([
    'supervisor RSS after boot (arbiter / cluster primary)',
    megabytes(figures.arbiterMemory.boot.rootBytes),
    megabytes(figures.clusterMemory.boot.rootBytes),
    ratio(figures.arbiterMemory.boot.rootBytes, figures.clusterMemory.boot.rootBytes),
    `< 60 MB: ${verdict(figures.arbiterMemory.boot.rootBytes < RSS_TARGET_BYTES)}`,
  ]),
  row([
    'supervisor RSS after the load test (largest of the runs)',
    megabytes(arbiterAfterLoad),
    megabytes(clusterAfterLoad),
    ratio(arbiterAfterLoad, clusterAfterLoad),
    `< 60 MB: ${verdict(arbiterAfterLoad < RSS_TARGET_BYTES)}`,
  ]),
  row([
    `arbiter RSS after the load test and ${figures.reloads.length + figures.quietReloads.length} reloads`,
    megabytes(figures.arbiterMemory.afterReloads.rootBytes),
    '',
    '',
    `< 60 MB: ${verdict(figures.arbiterMemory.afterReloads.rootBytes < RSS_TARGET_BYTES)}`,
  ]),
  row([
    'process tree RSS after the load test (supervisor + workers + helpers)',
    megabytes(arbiterTree),
    megabytes(clusterTree),
    ratio(arbiterTree, clusterTree),
    'information',
  ]),
  row([
    `HUP → \`reload\` completed event, median / p95 (${figures.reloads.length} reloads)`,
    `${fixed(median(completed))} / ${fixed(percentile(completed, 95))} ms`,
    '',
    '',
    '',
  ]),
  row([
    'HUP → first response from a new-generation worker, median / p95',
    `${fixed(median(firstNew))} / ${fixed(percentile(firstNew, 95))} ms`,
    '',
    '',
    '',
  ]),
  row([
    `the same without polling, median / p95 (${figures.quietReloads.length} reloads)`,
    `${fixed(median(quiet))} / ${fixed(percentile(quiet, 95))} ms`,
    '',
    '',
    '',
  ]),
  row(['requests failed during the reloads (fresh connections)', `${failedPolls} of ${polls}`, '', '', '0']),
].join('\n')}

## Load runs, in the order they ran

CPU columns: % of one core during the run (${setting.cores} cores = ${setting.cores * 100} %); "load generator" is the
benchmark's own process, where autocannon runs; "others" is the machine's busy time (interrupts
included) not spent in those processes, i.e. other load on the machine; "steal" is time the
hypervisor gave to other guests. A run with much of either is not comparable to the others: one
where they took more than ${setting.disturbedPercent} % of a core is measured again, once (marked "attempt 2").

| # | server | requests/s | requests | latency mean (ms) | p99 (ms) | errors + non-2xx | CPU supervisor | CPU load generator | CPU workers | CPU others | steal | requests per worker |
|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|
${loadRows(figures).join('\n')}

## Reloads (ms from \`kill -HUP\`)

Each HUP comes 300 ms after the previous cycle ended, as saves do: long enough for the standby
processes started after a cycle to be up. HUPs sent back to back find them still starting and
boot cold (~150–250 ms on two cores).

| measure | n | min | median | p95 | max |
|---|---:|---:|---:|---:|---:|
${reloadRows(figures).join('\n')}

## Process trees after the last load run

Arbiter:

| pid | command | RSS |
|---:|---|---:|
${treeRows(lastArbiterTree).join('\n')}

Node cluster:

| pid | command | RSS |
|---:|---|---:|
${treeRows(lastClusterTree).join('\n')}

## Method and notes

- **The machine has ${setting.cores} cores, and the load generator (autocannon, in the benchmark's own
  process) competes with the servers for them.** It does so equally for both servers, so the ratio
  is the meaningful figure; the absolute requests/s are far below what either server would do with
  the load generated elsewhere.
- Both servers run the same app, \`bench/fixtures/hello.mjs\` (plain \`node:http\`, answers \`hello\`
  with an \`x-worker-pid\` header), with ${setting.workers} workers, on 127.0.0.1. The arbiter is
  started through the built CLI (\`node out/runner/cli.js --events /dev/fd/3 -w ${setting.workers}
  -b 127.0.0.1:0 --no-reload …\`); the twin is \`bench/fixtures/cluster.mjs\`, a primary that forks
  the workers with Node's default scheduling policy (round-robin on Linux: the primary accepts and
  hands each connection to a worker). Under the arbiter every worker accepts on the listening
  socket it inherited, and the kernel picks which one gets a connection.
- Throughput: autocannon, ${connections} connections (keep-alive, no pipelining), ${warmupSeconds} s
  warm-up then ${durationSeconds} s measured, identical for both; run ${figures.arbiterRuns.length}
  times each, alternating arbiter, cluster, arbiter, cluster, each run on a freshly started server
  (after ${setting.settleSeconds} s of settling); the figure is the mean of autocannon's per-second request counts,
  averaged over the runs (spread between runs: arbiter ${spread(figures.arbiterRuns)}, cluster
  ${spread(figures.clusterRuns)} requests/s). With keep-alive each connection is accepted once, so
  the accept path matters little; which worker gets a connection matters more: "requests per
  worker" is from the arbiter's \`worker.stats\` events (warm-up included).
  "Requests per CPU-second of the workers" divides each run's requests/s by the CPU its workers
  got; it is less sensitive than requests/s to CPU taken by other guests (steal) or processes.
- CPU: utime + stime from \`/proc/PID/stat\` (clock ticks, \`getconf CLK_TCK\` = ${setting.clockTicks}),
  over ${figures.idle.seconds} s of no traffic after boot (one tick over that window is
  ${fixed(idleTicks, 2)} % of a core, the resolution of the idle figures), and over each load run.
  The arbiter's workers beat once a second (\`--timeout 30\` default), which is all the idle
  arbiter itself does; but the window starts ${setting.settleSeconds} s after boot, and V8's memory
  reducer runs one or two full GCs about 8 s after a Node process starts (seen with
  \`--trace-gc\`), so a few ticks of the idle figures are that one-off, not a steady cost.
- Memory: VmRSS from \`/proc/PID/status\`, measured ${setting.settleSeconds} s after boot and right after each load run;
  the tree is the supervisor and every descendant (for the arbiter: its workers and its orphan
  reaper, a \`/bin/sh\`).
- Reloads: \`SIGHUP\` to the arbiter of the second arbiter run (after its load run), ${setting.reloads}
  times. From the moment the signal is sent, the benchmark opens a fresh connection every ~2 ms
  (at most 8 in flight) and notes the first 200 response whose \`x-worker-pid\` is not a worker of
  the old generation; the \`reload\` event (phase \`completed\`) is timed when it arrives on the event
  pipe. The next HUP is sent only after every old worker has exited. Polling and the reload's two
  fresh Node processes share the ${setting.cores} cores, so the polling slows the reload it measures;
  ${figures.quietReloads.length} more reloads, timed by their event alone, show by how much. A
  reload's floor is the start-up of a Node process on this machine (the new workers are spawned
  within a few ms of the HUP).
- Every process started is stopped at the end (arbiter: SIGTERM, waiting for its exit; exit codes
  ${figures.arbiterExitCodes.map(String).join(', ')}; cluster primary: SIGTERM, which stops its workers).
`;
}
