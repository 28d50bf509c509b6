/**
 * What the suite's tests share: waits with a deadline (on a session's changes, on any event, on
 * processes going), a plain GET, the tree's worker rows, and the servers a test needs — the
 * folder's running one, or one started for it — so that every test can run alone.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import * as vscode from 'vscode';
import type { ArbiterApi } from '../../../extension/extension';
import type { ServerSession } from '../../../extension/server/server-session';
import type { TreeNode } from '../../../extension/views/worker-tree';

export const DEADLINE_MS = 20_000;
const ANSI_COLOR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const RESULTS = process.env.ARBITER_VSCODE_RESULTS;

/** What every test gets: the extension's API and the multi-root workspace's folders. */
export type Context = {
  api: ArbiterApi;
  /** The folder most tests use; `web` and `storm` are the multi-root workspace's others. */
  folder: vscode.WorkspaceFolder;
  web: vscode.WorkspaceFolder;
  storm: vscode.WorkspaceFolder;
  /** A TypeScript app, for breakpoints through source maps. */
  ts: vscode.WorkspaceFolder;
  /** A Python WSGI app (module:callable). */
  py: vscode.WorkspaceFolder;
  /** The official NestJS starter (test/fixtures/real-apps/nest), installed. */
  nest: vscode.WorkspaceFolder;
  /** Every worker pid a server has spawned, from its start on (the model keeps only recent generations). */
  spawned: (session: ServerSession) => number[];
};

/** A test: its name (what `ARBITER_VSCODE_GREP` matches and the report prints) and its body. */
export type Test = [string, (context: Context) => Promise<void>];

/** A line of the report: to the console (the harness follows it) and to the results file. */
export function say(line: string): void {
  console.log(`[arbiter-test] ${line}`);
  if (RESULTS) appendFileSync(RESULTS, `${line}\n`);
}

/**
 * Resolves once `check` holds, re-checked on every change of the session (and on `more`
 * events, for checks that read something else); fails at the deadline.
 */
export function until(
  session: ServerSession,
  what: string,
  check: () => boolean,
  more: vscode.Event<unknown>[] = [],
): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const subscriptions: vscode.Disposable[] = [];
    const timer = setTimeout(() => {
      for (const subscription of subscriptions) subscription.dispose();
      const output = session.outputSoFar.replace(ANSI_COLOR, '').slice(-2_000);
      reject(new Error(`not within ${DEADLINE_MS} ms: ${what}\n--- the server's last output ---\n${output}`));
    }, DEADLINE_MS);
    const recheck = () => {
      if (!check()) return;
      clearTimeout(timer);
      for (const subscription of subscriptions) subscription.dispose();
      resolve();
    };
    for (const event of [session.onDidChange, ...more]) subscriptions.push(event(recheck));
  });
}

export function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

/** `promise`, or a failure naming `what` at the deadline. */
export function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not within ${DEADLINE_MS} ms: ${what}`)), DEADLINE_MS);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Resolves once `check` holds, re-checked on `event`; fails at the deadline. */
export function when(event: vscode.Event<unknown>, check: () => boolean, what: string): Promise<void> {
  if (check()) return Promise.resolve();
  let subscription: vscode.Disposable | undefined;
  return within(
    new Promise<void>((resolve) => {
      subscription = event(() => {
        if (check()) resolve();
      });
    }),
    what,
  ).finally(() => {
    subscription?.dispose();
  });
}

/** Fails if `bad` comes to hold within `ms` (what "not killed while paused" promises). */
export function holds(session: ServerSession, what: string, bad: () => boolean, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (bad()) return reject(new Error(what));
    const timer = setTimeout(() => {
      subscription.dispose();
      resolve();
    }, ms);
    const subscription = session.onDidChange(() => {
      if (!bad()) return;
      clearTimeout(timer);
      subscription.dispose();
      reject(new Error(what));
    });
  });
}

/**
 * Whether a process runs (a zombie does not). /proc shows a zombie once the main thread has
 * ended, but after a SIGKILL the other threads end on their own and the last one closes the
 * files (its sockets): a zombie with threads left in /proc/PID/task still runs.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const zombie = /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return !zombie || readdirSync(`/proc/${pid}/task`).length > 1;
  } catch {
    return false;
  }
}

/** Resolves once none of `pids` runs (they are not our children: /proc is asked); fails at the deadline. */
export async function gone(pids: number[], what: string): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (pids.some(alive)) {
    if (Date.now() > deadline) throw new Error(`still running after ${DEADLINE_MS} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** How many workers of the serving generation are ready. */
export const readyInServing = (session: ServerSession) =>
  session.model.generations.get(session.model.serving)?.workers.filter((w) => w.state === 'ready').length ??
  0;

/** The ready workers of the serving generation, as the tree shows them. */
export function treeWorkers(api: ArbiterApi, session: ServerSession): { pid: number; description: string }[] {
  const server = api.tree.getChildren().find((node) => node.kind === 'server' && node.session === session);
  assert.ok(server, 'the server row');
  const generations = api.tree.getChildren(server).filter((node) => node.kind === 'generation');
  const serving = generations.find((node) =>
    api.tree.getTreeItem(node).description?.toString().startsWith('serving'),
  );
  assert.ok(serving, `a serving generation among ${generations.length}`);
  return api.tree
    .getChildren(serving)
    .filter((node): node is Extract<TreeNode, { kind: 'worker' }> => node.kind === 'worker')
    .filter((node) => node.worker.state === 'ready')
    .map((node) => ({ pid: node.worker.pid, description: String(api.tree.getTreeItem(node).description) }));
}

/**
 * The folder's running server, or one started now as Start Server starts it; resolves once
 * `workers` workers are ready in its serving generation. For a test about a server that runs,
 * whichever test (if any) started it.
 */
export async function serving(
  { api }: Context,
  folder: vscode.WorkspaceFolder,
  workers: number,
): Promise<ServerSession> {
  const running = api.manager.sessionFor(folder);
  if (!running?.process.running) await vscode.commands.executeCommand('arbiter.startServer', folder);
  const session = api.manager.sessionFor(folder);
  assert.ok(session?.process.running, `a server for ${folder.name}`);
  await until(
    session,
    `${workers} ready workers for ${folder.name}`,
    () => readyInServing(session) === workers,
  );
  return session;
}

/**
 * Resolves once no server runs for the folder (one left by another test is force-stopped): for
 * a test that starts its own and reads its first generation.
 */
export async function noServer({ api }: Context, folder: vscode.WorkspaceFolder): Promise<void> {
  const running = api.manager.sessionFor(folder);
  if (!running?.process.running) return;
  const pids = [running.process.pid!, ...running.model.liveWorkers().map((w) => w.pid)];
  await within(running.forceStop(), `the ${folder.name} server left by another test stops`);
  await gone(pids, `the ${folder.name} server left by another test`);
}

/** Every worker pid of every server the manager starts from now on, by server. */
export function trackSpawned(
  api: ArbiterApi,
): vscode.Disposable & { of: (session: ServerSession) => number[] } {
  const spawned = new Map<ServerSession, number[]>();
  const subscription = api.manager.onDidStart((session) => {
    const pids: number[] = [];
    spawned.set(session, pids);
    session.onEvent((event) => event.type === 'worker.spawned' && pids.push(event.pid));
  });
  return {
    of: (session) => spawned.get(session) ?? [],
    dispose: () => {
      subscription.dispose();
    },
  };
}

/** A JavaScript fixture's `const VERSION = '…'`, as its document reads now. */
export function versionIn(document: vscode.TextDocument): string {
  const version = /const VERSION = '([^']*)';/.exec(document.getText())?.[1];
  assert.ok(version !== undefined, `const VERSION in ${document.uri.fsPath}`);
  return version;
}

/** The version after `version` (v1 → v2; dv4, as the debug test leaves it, → v5). */
export const nextVersion = (version: string) => `v${Number(/\d*$/.exec(version)?.[0] ?? '') + 1}`;
