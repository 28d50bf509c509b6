/**
 * The inotify watch limit, reached for real: the arbiter runs in a user namespace of its own
 * whose limit (/proc/sys/user/max_inotify_watches) is set to 40, on a tree of 61 folders. The
 * kernel then refuses the 41st watch with ENOSPC, as it would on a big monorepo at the
 * default limit. Wanted: one line naming the limit and how to raise it, a true count, and the
 * folders past the limit polled so that no save is missed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import type { ArbiterRun } from '../support/arbiter-run';
import { onlyThisSaveCycles, project, start } from '../support/watched-project';

const LIMIT = 40;
const FOLDERS = 60; // and the root

/** Runs a command in a new user namespace whose inotify watch limit is LIMIT. */
const LOW_LIMIT = [
  'unshare',
  '--user',
  '--map-root-user',
  'sh',
  '-c',
  `echo ${LIMIT} > /proc/sys/user/max_inotify_watches && exec "$@"`,
  'sh',
];

/** Why the test cannot run here, if it cannot: unshare missing or user namespaces disabled. */
function unavailable(): string | undefined {
  const probe = spawnSync(LOW_LIMIT[0]!, [...LOW_LIMIT.slice(1), 'true'], { encoding: 'utf8' });
  if (probe.error) return `unshare cannot run: ${probe.error.message}`;
  if (probe.status !== 0) return `no user namespace with its own inotify limit: ${probe.stderr.trim()}`;
  return undefined;
}

/** Waits until the cycles since `mark` have named every one of `files`. */
async function allCycled(run: ArbiterRun, mark: number, files: readonly string[]): Promise<void> {
  const missing = () => {
    const named = new Set(
      run.events.slice(mark).flatMap((e) => (e.type === 'reload' && e.phase === 'triggered' ? e.files : [])),
    );
    return files.filter((file) => !named.has(file));
  };
  while (missing().length > 0) {
    await run
      .waitForNext('reload', (e) => e.phase === 'triggered')
      .catch(() => {
        throw new Error(`never cycled on ${missing().join(', ')}\n${run.output}`);
      });
  }
}

test(
  'past the inotify limit: one line naming it, a true count, and the folders past it polled',
  { skip: unavailable() },
  async (t) => {
    const files: Record<string, string> = {};
    for (let i = 1; i <= FOLDERS; i++) files[`d${i}/m.js`] = `module.exports = ${i};\n`;
    const p = project(files);
    const { run, generation, watching } = await start(t, p, { run: { wrapper: LOW_LIMIT } });

    assert.equal(watching.files, FOLDERS + 1);
    assert.equal(watching.folders, LIMIT, 'one inotify watch per folder, up to the limit');
    assert.equal(watching.polled, FOLDERS + 1 - LIMIT);
    // The line comes before the count's, on the arbiter's stderr (events come on their own pipe).
    await run.waitForOutput(/watching 61 files in 40 folders and 21 polled/);
    const lines = run.output.split('\n').filter((line) => /inotify|ENOSPC/.test(line));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /\/proc\/sys\/user\/max_inotify_watches = 40/);
    assert.match(lines[0]!, /21 folders .*polled/);
    assert.match(lines[0]!, /sysctl fs\.inotify\.max_user_watches=524288/);

    // A save in every folder, watched or polled: none is missed.
    let mark = run.events.length;
    const saved = Object.keys(files).map((rel) => p.write(rel, `module.exports = 'saved';\n`));
    await allCycled(run, mark, saved);

    // A folder made later, past the limit, is polled too; still one line in all.
    mark = run.events.length;
    const late = p.write('late/x.js', 'module.exports = 1;\n');
    await allCycled(run, mark, [late]);
    mark = run.events.length;
    p.write('late/x.js', 'module.exports = 2;\n');
    await allCycled(run, mark, [late]);
    assert.equal(run.output.split('\n').filter((line) => /inotify|ENOSPC/.test(line)).length, 1);

    const last = Math.max(...run.all('reload').map((e) => e.generation));
    await run.waitFor('reload', (e) => e.generation === last && e.phase !== 'triggered');
    await onlyThisSaveCycles(run, p.app, 'v2', last + 1);
    assert.ok(last > generation);
  },
);
