/**
 * The real-apps section of bench/results.md: every runner's figures per app, the issue's
 * targets as ratios within this run (met or not met, said plainly), the arbiter's own figures
 * with its boot profile where the event stream has one, and how it was measured.
 */
import type { BootProfile } from '../../runner/protocol/events';
import { REQUEST_TIMEOUT_MS } from '../fresh-get';
import { median, megabytes, percentile } from '../stats';
import { APPS, HOOK_MARK } from './apps';
import type { AppResult, RealAppsFigures, RunnerResult } from './index';
import { LIVE_DEADLINE_MS, LOAD_CLIENTS, LOAD_TAIL_MS, QUIET_MS } from './measure';
import { BOOT_DEADLINE_MS, POLL_INTERVAL_MS } from './start';

/** The issue's targets, each app, as ratios in the same run. */
const TARGET = { ofFastestRestart: 0.3, ofBunHot: 1.5, p95OfMedian: 2 } as const;

const fixed = (value: number, digits = 0): string => (Number.isFinite(value) ? value.toFixed(digits) : '—');
const row = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
const verdict = (ok: boolean): string => (ok ? 'met' : '**not met**');
const cell = (text: string): string => text.replace(/\|/g, '\\|');

type Measured = RunnerResult & { figures: NonNullable<RunnerResult['figures']> };
const measured = (result: RunnerResult): result is Measured =>
  !!result.figures && result.figures.latencies.length > 0;

function runnerRow(app: AppResult, result: RunnerResult): string {
  const name = `${app.app.name}`;
  if (result.skipped)
    return row([name, result.runner.name, `not run: ${cell(result.skipped)}`, '', '', '', '', '']);
  if (!measured(result))
    return row([
      name,
      result.runner.name,
      `failed: ${cell(result.error ?? 'not measured')}`,
      '',
      '',
      '',
      '',
      '',
    ]);
  const f = result.figures;
  const mid = median(f.latencies);
  const p95 = percentile(f.latencies, 95);
  return row([
    name,
    result.runner.name,
    fixed(mid),
    fixed(p95),
    fixed(p95 / mid, 2),
    `${f.loadFailed} of ${f.loadRequests} (${fixed(f.loadFailed / f.loadReloads, 1)} per reload)`,
    f.hooks ? `${f.hooks.ran} of ${f.hooks.expected}` : '—',
    megabytes(f.treeBytes),
  ]);
}

/** The fastest measured runner of `kind` by median, if any. */
function fastest(app: AppResult, kind: 'restart' | 'hot'): Measured | undefined {
  return app.runners
    .filter((r): r is Measured => r.runner.kind === kind && measured(r))
    .sort((a, b) => median(a.figures.latencies) - median(b.figures.latencies))[0];
}

function targetRows(app: AppResult): string[] {
  const restart = fastest(app, 'restart');
  const hot = fastest(app, 'hot');
  return app.runners
    .filter((r) => r.runner.kind === 'arbiter')
    .map((result) => {
      if (!measured(result)) return row([app.app.name, result.runner.name, 'failed', '', '', '', '']);
      const f = result.figures;
      const mid = median(f.latencies);
      const ratioCell = (peer: Measured | undefined, limit: number) => {
        if (!peer) return '— (no peer measured)';
        const ratio = mid / median(peer.figures.latencies);
        return `${fixed(ratio, 2)} of ${peer.runner.name} (${fixed(median(peer.figures.latencies))} ms): ${verdict(ratio <= limit)}`;
      };
      const p95Ratio = percentile(f.latencies, 95) / mid;
      return row([
        app.app.name,
        result.runner.name,
        ratioCell(restart, TARGET.ofFastestRestart),
        app.app.language === 'node' ? ratioCell(hot, TARGET.ofBunHot) : '— (no in-place peer for Python)',
        `${fixed(p95Ratio, 2)}: ${verdict(p95Ratio <= TARGET.p95OfMedian)}`,
        `${f.loadFailed}: ${verdict(f.loadFailed === 0)}`,
        f.hooks
          ? `${f.hooks.ran} of ${f.hooks.expected}: ${verdict(f.hooks.ran >= f.hooks.expected)}`
          : '— (no hook in the fixture)',
      ]);
    });
}

/**
 * The boot profiles of the cycles, each part as its median over the cycles that have it, in the
 * tree's words ("live 96: build 8 · process warm 3 · deps warm (412 modules) · code 61 · listen 12").
 */
function profileText(profiles: readonly BootProfile[]): string {
  if (profiles.length === 0) return '— (no `profile` in the `reload` events)';
  const part = (pick: (p: BootProfile) => number | undefined) => {
    const values = profiles.flatMap((p) => (pick(p) === undefined ? [] : [pick(p)!]));
    return values.length ? fixed(median(values)) : undefined;
  };
  const share = (test: (p: BootProfile) => boolean) => profiles.filter(test).length;
  const deps = profiles.filter((p) => p.deps);
  const parts = [
    ['batch', part((p) => p.batchMs)],
    ['build', part((p) => p.buildMs)],
    [`process (warm ${share((p) => p.process.warm)}/${profiles.length})`, part((p) => p.process.ms)],
    deps.length
      ? [
          `deps (warm ${share((p) => p.deps?.warm === true)}/${profiles.length}, ${part((p) => p.deps?.modules) ?? '?'} modules)`,
          part((p) => p.deps?.ms) ?? '',
        ]
      : ['deps', undefined],
    ['code', part((p) => p.codeMs)],
    ['listen', part((p) => p.listenMs)],
  ] as const;
  const shown = parts
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name} ${value}`.trim());
  return cell(`live ${part((p) => p.liveMs)}: ${shown.join(' · ')} (medians of ${profiles.length})`);
}

function arbiterRows(app: AppResult, edits: number): string[] {
  return app.runners.filter(measured).flatMap((result) => {
    const a = result.figures.arbiter;
    if (!a) return [];
    return [
      row([
        app.app.name,
        result.runner.name,
        `${fixed(median(a.reportedMs))} / ${fixed(percentile(a.reportedMs, 95))}`,
        `${a.triggered} for ${edits} saves (${a.failed} failed)`,
        String(a.hooksReported),
        megabytes(a.rootBytes),
        profileText(a.profiles),
      ]),
    ];
  });
}

export function renderRealApps(figures: RealAppsFigures): string {
  const { settings, apps } = figures;
  const saves = settings.edits + settings.reloads;
  const commands = apps
    .flatMap((app) =>
      app.runners
        .filter((r) => !r.skipped)
        .map((r) => `${app.app.name} / ${r.runner.name}: \`${r.runner.shown}\``),
    )
    .join('; ');
  const skipped = apps.filter((app) => app.skipped).map((app) => `${app.app.name} (${app.skipped})`);
  const patches = APPS.flatMap((app) => (app.patches ?? []).map((p) => `${app.name}: ${p.why}`));
  const hooks = APPS.filter((app) => app.hook).map(
    (app) => `${app.name}: ${app.hook!.name} in \`${app.hook!.file}\``,
  );
  return `## Real apps: arbiter vs. the reloaders each app's users would pick

Generated by \`npm run bench\` (bench/real-apps/; this section alone: \`npm run bench -- --only real-apps\`),
in ${fixed(figures.seconds)} s: ${settings.edits} timed saves and ${settings.reloads} under load per runner, the arbiter with
${settings.workers.map((n) => `\`-w ${n}\``).join(' and ')}.${skipped.length ? ` Skipped: ${skipped.join('; ')}.` : ''}

| app | runner | edit → live, median (ms) | p95 (ms) | p95 / median | failed requests under load | shutdown hook ran | tree RSS |
|---|---|---:|---:|---:|---:|---:|---:|
${apps.flatMap((app) => app.runners.map((r) => runnerRow(app, r))).join('\n')}

Targets (issue 15), each app, against the peers of the same run: median ≤ ${TARGET.ofFastestRestart}× the fastest
restart-based peer and ≤ ${TARGET.ofBunHot}× \`bun --hot\`; p95 ≤ ${TARGET.p95OfMedian}× median; 0 failed requests; every shutdown hook run.

| app | arbiter | median / fastest restart-based peer (≤ ${TARGET.ofFastestRestart}) | median / \`bun --hot\` (≤ ${TARGET.ofBunHot}) | p95 / median (≤ ${TARGET.p95OfMedian}) | failed requests (0) | hooks run (all) |
|---|---|---|---|---|---|---|
${apps.flatMap(targetRows).join('\n')}

The arbiter's own figures: its \`durationMs\` of each completed cycle, the cycles its watcher
started, the worker hooks it reported run ok (every hook it observes, by any name), its own RSS,
and its boot profile (the \`profile\` of its \`reload\` events: each part's median, in ms).

| app | arbiter | own \`durationMs\`, median / p95 (ms) | cycles | worker hooks reported | arbiter RSS | boot profile |
|---|---|---:|---|---:|---:|---|
${apps.flatMap((app) => arbiterRows(app, saves)).join('\n')}

Method:

- One app after another, each runner in turn on a fresh copy: the Node apps in their installed
  folder (\`.cache/real-apps/NAME\`, \`npm ci\` from the committed lockfile, sources put back as
  committed before each runner), the Python apps in a temporary folder (\`manage.py migrate\`,
  \`flask init-db\`; FastAPI on a PostgreSQL 15 the bench starts, a database per runner),
  \`/usr/bin/python3\` with Debian's packages and \`PYTHONDONTWRITEBYTECODE=1\` for every Python
  runner. Commands, with the app's folder as cwd: ${commands}.
- The edit: one route's response text gains a version (\`'Hello Koa'\` → \`'Hello Koa v<N>'\`, the
  same in each app's route), written whole in place. Edit → live: from just before the write to
  the end of the first fresh-connection response with the new version (one every ${POLL_INTERVAL_MS} ms, at most
  3 in flight); each save once the previous was live and ${QUIET_MS} ms of quiet; deadlines ${BOOT_DEADLINE_MS / 1000} s to boot,
  ${LIVE_DEADLINE_MS / 1000} s to be live.
- Failed requests: ${LOAD_CLIENTS} clients in a loop, a fresh connection per request (${REQUEST_TIMEOUT_MS / 1000} s timeout), across
  ${settings.reloads} saves (each once the previous version was seen, then ${QUIET_MS} ms) and ${LOAD_TAIL_MS / 1000} s after; a failure is
  a connection error, a timeout, another status or an answer of no version. A restart-based
  runner refuses connections while it restarts, and a refused connection fails at once, so its
  count says how fast the clients retried as much as how long it was down.
- Shutdown hooks, where the fixture has one (${hooks.join('; ')}): its copy prints
  \`${HOOK_MARK}\` at the hook's end, and the runner's output (the arbiter's includes its
  workers') is counted, against one run per process each save replaces (the arbiter's \`-w N\`:
  N per save) over all ${saves} saves. \`bun --hot\` replaces no process, so it runs none.
- Tree RSS: VmRSS of every process of the runner (its commands and their descendants), summed,
  after the saves.${patches.length ? `\n- Changed in the copies, for every runner alike: ${patches.join('; ')}.` : ''}
- Every process started is in its own process group; the group and every descendant are killed
  when the runner is done, whether it succeeded or failed.
`;
}

const HEADING = '## Real apps:';

/** `results` with its real-apps section (the last one) replaced by `section`, or `section` added. */
export function replaceRealAppsSection(results: string, section: string): string {
  const at = results.indexOf(`\n${HEADING}`);
  return at === -1 ? `${results}${results ? '\n' : ''}${section}` : `${results.slice(0, at + 1)}${section}`;
}
