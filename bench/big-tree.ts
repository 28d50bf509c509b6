/**
 * A big project, side by side with nodemon: 20,000 project files and 20,000 under node_modules.
 * The issue's targets: the arbiter serves within 1.5 s of start, is ~0 % CPU when idle, and its
 * process tree takes at most half of nodemon's memory on the same tree. Each runner in turn
 * on the same temp project (never two at once; everything a runner started is killed before the
 * next starts): start → first 200, start → `watcher.ready` (arbiter), the tree's memory (RSS and
 * PSS) once settled, idle CPU, and one edit after the walk. The project is removed at the end,
 * on failure too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT } from './arbiter-server';
import { bigTreeApp, createBigTree } from './big-tree-fixture';
import { treeCpu, treeMemory, type TreeMemory } from './big-tree-procs';
import {
  firstServed,
  nodemonMissing,
  POLL_INTERVAL_MS,
  RUNNERS,
  stopRunner,
  type Running,
  type RunnerSpec,
} from './big-tree-runners';
import { pause, within } from './deadline';
import { freePort } from './reload-peers';

/** The issue's targets. */
const SERVING_TARGET_MS = 1_500;
const IDLE_TARGET_PERCENT = 0.5;
const MEMORY_TARGET_RATIO = 0.5;
/** After watcher.ready (arbiter) or first 200 (nodemon): standbys start, chokidar finishes its walk, JIT settles. */
const SETTLE_MS = 3_000;
/** Then, until the tree uses at most QUIET_PERCENT over a QUIET_WINDOW_MS window (QUIET_MAX_MS at most). */
const QUIET_PERCENT = 2;
const QUIET_WINDOW_MS = 500;
const QUIET_MAX_MS = 15_000;
const IDLE_MS = 10_000;
/**
 * The idle window starts no earlier than this after the start: V8's memory reducer runs a full
 * GC or two about 8 s after a process starts, which on the arbiter's watcher heap (20,000 paths)
 * is several ticks; that is start-up tail, not idle cost.
 */
const IDLE_NOT_BEFORE_MS = 15_000;
const BOOT_DEADLINE_MS = 20_000;
const WATCHER_DEADLINE_MS = 30_000;
const EDIT_DEADLINE_MS = 20_000;

export type BigTreeRunner = {
  name: string;
  command: string;
  skipped?: string;
  error?: string;
  /** Start → first 200, ms. */
  servingMs: number;
  /** Arbiter only: start → watcher.ready as seen here, and what the event reported. */
  watcher?: { readyMs: number; files: number; folders: number; durationMs: number };
  /** Start → settled (SETTLE_MS and the quiet wait included), ms. */
  settledMs: number;
  memory?: TreeMemory;
  /** Arbiter only: which members were standbys when memory was read. */
  standbyPids?: number[];
  /** % of one core over IDLE_MS: the supervisor, its tree, the rest of the machine. */
  idle?: { supervisor: number; tree: number; others: number };
  /** Rewrite of app.js after the walk → new body served, ms. */
  editMs: number;
};

export type BigTreeFigures = {
  projectFiles: number;
  nodeModulesFiles: number;
  createSeconds: number;
  runners: BigTreeRunner[];
};

const active = new Set<Running>();
const projects = new Set<string>();

/** Stops a runner still running and removes the project (for run.ts's signal and failure paths). */
export async function stopBigTree(): Promise<void> {
  const running = [...active];
  active.clear();
  await Promise.allSettled(running.map(stopRunner));
  for (const dir of projects) rmSync(dir, { recursive: true, force: true });
  projects.clear();
}

/** Waits until the tree is quiet (or QUIET_MAX_MS passed): a walk still running must not be measured as idle. */
async function untilQuiet(pid: number): Promise<void> {
  const endAt = performance.now() + QUIET_MAX_MS;
  while (performance.now() < endAt) {
    if ((await treeCpu(pid, QUIET_WINDOW_MS)).tree <= QUIET_PERCENT) return;
  }
}

/** The figures of one started runner; the edit comes last, since it replaces the app process. */
async function measureStarted(
  running: Running,
  startedAt: number,
  port: number,
  dir: string,
  figures: BigTreeRunner,
) {
  figures.servingMs = (await firstServed(port, 'hello v1', running, BOOT_DEADLINE_MS)) - startedAt;
  if (running.watcherReady) {
    const ready = await within(running.watcherReady, WATCHER_DEADLINE_MS, 'watcher.ready');
    const { files, folders, durationMs } = ready.event;
    figures.watcher = { readyMs: ready.at - startedAt, files, folders, durationMs };
  }
  await pause(SETTLE_MS);
  await untilQuiet(running.pid);
  figures.settledMs = performance.now() - startedAt;
  figures.memory = treeMemory(running.pid);
  figures.standbyPids = running.standbys?.() ?? [];
  await pause(IDLE_NOT_BEFORE_MS - (performance.now() - startedAt));
  figures.idle = await treeCpu(running.pid, IDLE_MS);
  const editAt = performance.now();
  writeFileSync(join(dir, 'app.js'), bigTreeApp(2));
  figures.editMs = (await firstServed(port, 'hello v2', running, EDIT_DEADLINE_MS)) - editAt;
}

async function measureRunner(
  spec: RunnerSpec,
  dir: string,
  log: (m: string) => void,
): Promise<BigTreeRunner> {
  const figures: BigTreeRunner = {
    name: spec.name,
    command: spec.command,
    servingMs: NaN,
    settledMs: NaN,
    editMs: NaN,
  };
  figures.skipped = spec.name === 'nodemon' ? nodemonMissing() : undefined;
  if (figures.skipped) return figures;
  writeFileSync(join(dir, 'app.js'), bigTreeApp(1));
  const port = await freePort();
  const startedAt = performance.now();
  const running = spec.start(dir, port);
  active.add(running);
  try {
    await measureStarted(running, startedAt, port, dir, figures);
    log(`${spec.name}: ${summary(figures)}`);
  } catch (error) {
    figures.error = (error as Error).message.split('\n')[0];
    log(`${spec.name}: failed: ${(error as Error).stack ?? String(error)}`);
  } finally {
    active.delete(running);
    await stopRunner(running);
  }
  return figures;
}

export async function measureBigTree(log: (message: string) => void): Promise<BigTreeFigures> {
  const dir = mkdtempSync(join(os.tmpdir(), 'arbiter-big-tree-'));
  projects.add(dir);
  try {
    const createdAt = performance.now();
    const { projectFiles, nodeModulesFiles } = createBigTree(dir);
    const createSeconds = (performance.now() - createdAt) / 1000;
    log(
      `big tree: ${projectFiles} project files, ${nodeModulesFiles} in node_modules, written in ${createSeconds.toFixed(1)} s`,
    );
    const runners: BigTreeRunner[] = [];
    for (const spec of RUNNERS) runners.push(await measureRunner(spec, dir, log));
    return { projectFiles, nodeModulesFiles, createSeconds, runners };
  } finally {
    await stopBigTree();
  }
}

const fixed = (value: number | undefined, digits = 0): string =>
  value !== undefined && Number.isFinite(value) ? value.toFixed(digits) : '—';
const mb = (bytes: number | undefined): string => fixed(bytes === undefined ? NaN : bytes / 1024 / 1024, 1);
const row = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
/** `value` against an upper `limit`: met, not met, or — when it was not measured. */
const upTo = (value: number | undefined, limit: number, digits: number, unit = ''): string =>
  value === undefined || !Number.isFinite(value)
    ? '—'
    : `${value.toFixed(digits)}${unit}: ${value <= limit ? 'met' : '**not met**'}`;

function summary(r: BigTreeRunner): string {
  const walk = r.watcher ? `, watcher.ready ${fixed(r.watcher.readyMs)} ms (${r.watcher.files} files)` : '';
  return (
    `serving ${fixed(r.servingMs)} ms${walk}, tree RSS ${mb(r.memory?.rssBytes)} MB / PSS ${mb(r.memory?.pssBytes)} MB, ` +
    `idle ${fixed(r.idle?.tree, 2)} % of a core, edit → live ${fixed(r.editMs)} ms`
  );
}

/** A command line short enough for a table: the project and repository paths named, not spelled. */
function shortCommand(command: string): string {
  const short = command
    .replace(/\s+/g, ' ')
    .replaceAll(process.execPath, 'node')
    .replaceAll(`${ROOT}/`, '')
    .replace(/\/\S*arbiter-big-tree-\w+/g, '<project>');
  return (short.length > 90 ? `${short.slice(0, 87)}…` : short).replace(/\|/g, '\\|');
}

/** The issue's targets, for each arbiter row against nodemon's. */
function targetRows(runners: readonly BigTreeRunner[]): string[] {
  const nodemon = runners.find((r) => r.name === 'nodemon');
  const ratio = (r: BigTreeRunner, pick: (m: TreeMemory) => number) =>
    r.memory && nodemon?.memory ? pick(r.memory) / pick(nodemon.memory) : NaN;
  return runners
    .filter((r) => r.name !== 'nodemon')
    .map((r) => {
      const rss = ratio(r, (m) => m.rssBytes);
      const pss = ratio(r, (m) => m.pssBytes);
      return row([
        r.name === 'arbiter -w 1' ? `**${r.name}** (like-for-like)` : r.name,
        upTo(r.servingMs, SERVING_TARGET_MS, 0, ' ms'),
        upTo(rss, MEMORY_TARGET_RATIO, 2),
        upTo(pss, MEMORY_TARGET_RATIO, 2),
        upTo(r.idle?.tree, IDLE_TARGET_PERCENT, 2, ' %'),
      ]);
    });
}

function figureRow(r: BigTreeRunner): string {
  if (r.skipped) return row([r.name, `skipped: ${r.skipped}`, ...Array<string>(10).fill('')]);
  const m = r.memory;
  return row([
    r.name,
    fixed(r.servingMs),
    r.watcher ? `${fixed(r.watcher.readyMs)} (${r.watcher.durationMs})` : '—',
    r.watcher ? `${r.watcher.files} / ${r.watcher.folders}` : '—',
    mb(m?.rssBytes),
    mb(m?.pssBytes),
    mb(m?.supervisorRssBytes),
    m ? String(m.members.length) : '—',
    fixed(r.idle?.supervisor, 2),
    fixed(r.idle?.tree, 2),
    fixed(r.editMs),
    r.error ? `failed: ${r.error.replace(/\|/g, '\\|')}` : fixed(r.settledMs / 1000, 1),
  ]);
}

function memberRows(runners: readonly BigTreeRunner[]): string[] {
  return runners.flatMap((r) =>
    (r.memory?.members ?? []).map((m) =>
      row([
        r.name,
        String(m.pid),
        `\`${shortCommand(m.command)}\`${r.standbyPids?.includes(m.pid) ? ' (standby)' : ''}`,
        mb(m.rssBytes),
        mb(m.pssBytes),
      ]),
    ),
  );
}

export function renderBigTree(figures: BigTreeFigures, elapsedSeconds: number): string {
  const others = figures.runners.map((r) => r.idle?.others).filter((v): v is number => v !== undefined);
  return `## Big tree: ${figures.projectFiles.toLocaleString('en')} project files + ${figures.nodeModulesFiles.toLocaleString('en')} in node_modules, arbiter vs. nodemon

Generated by \`npm run bench\` (bench/big-tree.ts), in ${fixed(elapsedSeconds)} s.

The issue's targets: serving within ${SERVING_TARGET_MS / 1000} s of start; ~0 % CPU when idle (here: the
whole tree at most ${IDLE_TARGET_PERCENT} % of one core); the process tree's memory at most
${MEMORY_TARGET_RATIO} × nodemon's on the same tree. **\`arbiter -w 1\` is the like-for-like row**: nodemon runs
one app process, and so does it. \`-w 2\` (the default) runs twice the workers, and standbys
(one pre-started process per worker, on by default) cost memory by design — they buy faster
cycles; \`--no-standby\` shows the arbiter without them.

| arbiter | start → serving (target ≤ ${SERVING_TARGET_MS} ms) | tree RSS / nodemon's (≤ ${MEMORY_TARGET_RATIO}) | tree PSS / nodemon's (≤ ${MEMORY_TARGET_RATIO}) | idle CPU, tree (≤ ${IDLE_TARGET_PERCENT} %) |
|---|---|---|---|---|
${targetRows(figures.runners).join('\n')}

| runner | start → first 200 (ms) | start → watcher.ready (ms) (its durationMs) | watched files / folders | tree RSS (MB) | tree PSS (MB) | supervisor RSS (MB) | processes | idle CPU, supervisor (% of a core) | idle CPU, tree | edit → live (ms) | settled after (s) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${figures.runners.map(figureRow).join('\n')}

Members of each tree, once settled:

| runner | pid | command | RSS (MB) | PSS (MB) |
|---|---:|---|---:|---:|
${memberRows(figures.runners).join('\n')}

Method:

- One temp project (written in ${fixed(figures.createSeconds, 1)} s, removed at the end): \`app.js\` (plain
  \`node:http\` hello world on \`PORT\`), \`package.json\`, ${figures.projectFiles.toLocaleString('en')} small CommonJS modules
  (\`src/d0..d199/m0..m99.js\`) and ${figures.nodeModulesFiles.toLocaleString('en')} files in \`node_modules\` (200 packages × 100
  files). The runners take turns on it, each started with the project as cwd in its own process
  group; everything its tree held is killed before the next starts. Commands:
  ${figures.runners.map((r) => `${r.name}: \`${r.command}\``).join('; ')}.
- Start → first 200: from the spawn to the end of the first \`200 hello v1\` response, on a fresh
  connection opened every ${POLL_INTERVAL_MS} ms. Start → watcher.ready: when the arbiter's \`watcher.ready\`
  event (the end of its watcher's first walk) arrived here; in brackets its own \`durationMs\`.
- Settled: after watcher.ready (arbiter) or the first 200 (nodemon), ${SETTLE_MS / 1000} s, then until the tree
  used at most ${QUIET_PERCENT} % of a core over ${QUIET_WINDOW_MS} ms (${QUIET_MAX_MS / 1000} s at most). Then memory:
  the supervisor (the arbiter, or nodemon) and every descendant, followed by parent pid (the
  arbiter's workers and standbys have process groups of their own); \`Rss:\` and \`Pss:\` of
  /proc/PID/smaps_rollup, summed. RSS counts shared pages once per process; PSS splits them among
  the processes sharing them, so it is the fair figure for a tree of several node processes.
- Idle CPU: utime + stime from /proc/PID/stat over ${IDLE_MS / 1000} s with no requests, % of one core (one
  tick is 0.1 %), starting ${IDLE_NOT_BEFORE_MS / 1000} s after the start at the earliest: V8's memory reducer
  runs a full GC or two about 8 s after a process starts, a one-off that is not idle cost.
  The rest of the machine used ${others.length ? others.map((v) => fixed(v, 0)).join(', ') : '—'} % of a core meanwhile (per runner).
- Edit → live: after the walk and the idle window, app.js rewritten to answer \`hello v2\`; from just
  before the write to the end of the first response with the new body (polled as above).
`;
}
