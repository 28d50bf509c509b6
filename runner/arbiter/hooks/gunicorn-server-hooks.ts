/**
 * gunicorn's *server* hooks (on_starting, when_ready, on_reload, pre_fork, child_exit,
 * nworkers_changed, on_exit) live in gunicorn.conf.py and run in gunicorn's master process. Our
 * master is Node, so each run is a short Python process (runner/python/master_hooks.py) started
 * at the moment gunicorn would call the hook; its outcome and duration are reported like any
 * arbiter hook, under gunicorn's name. The worker-side hooks (post_fork, post_worker_init,
 * worker_int, worker_abort, worker_exit) run inside the Python workers themselves.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { ArbiterHooks, HookName } from '../../config/hooks';
import { HOOK_TIMEOUT_MS } from './hook-runner';

/** Our hook → gunicorn's, and the arguments its Python side gets (JSON). */
const SERVER_HOOKS: Partial<Record<HookName, string>> = {
  onStarting: 'on_starting',
  whenReady: 'when_ready',
  onReload: 'on_reload',
  preFork: 'pre_fork',
  childExit: 'child_exit',
  workersChanged: 'nworkers_changed',
  onExit: 'on_exit',
};

/** A hook function that tells the hook runner the name to report it under. */
export type LabelledHook = ((...args: unknown[]) => Promise<void>) & { label: string };

/** What a gunicorn.conf.py gives: the server hooks it defines, and its settings as gunicorn reads them. */
export type DescribedConfig = { hooks: string[]; settings: Record<string, unknown> };

/**
 * Reads `config` once, at start, through gunicorn itself (master_hooks.py --describe): a config
 * that cannot even be read is reported then, not at every hook.
 */
export function describeGunicornConfig(config: string, python: string, runtimeDir: string): DescribedConfig {
  const script = join(runtimeDir, 'master_hooks.py');
  const described = spawnSync(python, [script, config, '--describe'], { encoding: 'utf8', timeout: 30_000 });
  if (described.status !== 0)
    throw new Error(
      `${config} could not be loaded:\n${(described.stderr || described.error?.message || '').trim()}`,
    );
  return JSON.parse(described.stdout) as DescribedConfig;
}

/** The server hooks of `config` (named in `defined`), as arbiter hooks. */
export function gunicornServerHooks(
  config: string,
  python: string,
  runtimeDir: string,
  defined: readonly string[],
): ArbiterHooks {
  const script = join(runtimeDir, 'master_hooks.py');
  const hooks: ArbiterHooks = {};
  for (const [ours, theirs] of Object.entries(SERVER_HOOKS) as [HookName, string][]) {
    if (!defined.includes(theirs)) continue;
    const hook = ((...args: unknown[]) => runHook(python, script, config, theirs, args)) as LabelledHook;
    hook.label = theirs;
    (hooks as Record<string, unknown>)[ours] = hook;
  }
  return hooks;
}

function runHook(
  python: string,
  script: string,
  config: string,
  name: string,
  args: unknown[],
): Promise<void> {
  return new Promise((resolve, reject) => {
    // Its prints are relayed rather than inherited: a child given the arbiter's stdout makes
    // that pipe blocking for the arbiter too (libuv clears O_NONBLOCK on a child's fds 0-2).
    const child = spawn(python, [script, config, name, JSON.stringify(args)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // A process group of its own, as a hook of gunicorn's master would run in the master: a
      // terminal's Ctrl+C reaches the arbiter, whose ladder decides, never the hook mid-run.
      detached: true,
      // The hook runner stops waiting at its timeout; the process must not outlive that.
      timeout: HOOK_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    let stderr = '';
    // A spawn that failed (no fds left) has no pipes; its 'error' says why.
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => (stderr += chunk));
    child.stdout?.on('data', (chunk: Buffer) => process.stdout.write(chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) return resolve();
      // The Python traceback is the whole story; a Node stack would only point here.
      const failure = new Error(stderr.trim() || `${name} exited with code ${code}`);
      failure.stack = failure.message;
      reject(failure);
    });
  });
}
