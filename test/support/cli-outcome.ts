/**
 * The built CLI run to its end on bad input, and what a clean failure looks like: a non-zero
 * exit code, one clear message naming the bad value and what was expected, no stack trace, and
 * no process left behind.
 */
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { CLI } from './arbiter-run';
import { parseEvent, type ArbiterEvent } from '../../runner/protocol/events';

const DEADLINE_MS = 15_000;
/** What the logger puts before each line: time and source. */
const LOG_PREFIX = /^\d{2}:\d{2}:\d{2}\.\d{3} \[(?:arbiter|worker)[^\]]*\] ?/;
const FRAME = /^\s+at /m;

export type Outcome = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

/** A fresh directory holding `files`; its path appears in the command line of every run that uses it. */
export function project(t: TestContext, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-bad-input-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Runs the built CLI to its end; kills it and fails if it is still running after the deadline. */
export function runCli(
  t: TestContext,
  args: readonly string[],
  cwd: string,
  options: { user?: { uid: number; gid: number } } = {},
): Promise<Outcome> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // 'close', not 'exit': all output has been read by then.
  const closed = new Promise<Outcome>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await closed.catch(() => undefined);
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`arbiter ${args.join(' ')} still running after ${DEADLINE_MS} ms\n${stdout}${stderr}`),
      );
    }, DEADLINE_MS);
  });
  return Promise.race([closed, deadline]).finally(() => clearTimeout(timer));
}

/** The lines of the output with the logger's prefix removed, empty lines dropped. */
export function messageLines(outcome: Outcome): string[] {
  return `${outcome.stdout}${outcome.stderr}`
    .split('\n')
    .map((line) => line.replace(LOG_PREFIX, ''))
    .filter((line) => line.trim() !== '');
}

/** Command lines of the processes still running that mention `dir`. */
export function processesMentioning(dir: string): string[] {
  const table = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return table.split('\n').filter((line) => line.includes(dir));
}

export type Expectation = {
  /** The exact exit code, when it is specified. */
  code?: number;
  /** What the message must say: the bad value and what was expected. */
  says: (string | RegExp)[];
  /** Usage errors are a single line; boot failures tell a short story. */
  oneLine?: boolean;
  /** The app's own frames may be shown for an error it threw (never Node's or the arbiter's). */
  userFramesIn?: string;
};

export function assertCleanFailure(outcome: Outcome, dir: string, expect: Expectation): void {
  const all = `${outcome.stdout}${outcome.stderr}`;
  const context = `--- output ---\n${all}`;
  assert.equal(outcome.signal, null, `ended by a signal\n${context}`);
  assert.notEqual(outcome.code, 0, `exit code 0\n${context}`);
  if (expect.code !== undefined) assert.equal(outcome.code, expect.code, `exit code\n${context}`);
  assert.doesNotMatch(all, FRAME, `a raw stack trace\n${context}`);
  assert.doesNotMatch(all, /internal error/, context);
  const lines = messageLines(outcome);
  for (const line of lines.filter((l) => FRAME.test(l))) {
    assert.ok(
      expect.userFramesIn !== undefined && line.includes(expect.userFramesIn) && !/node:|runner/.test(line),
      `a stack frame in the message: ${line}\n${context}`,
    );
  }
  if (expect.oneLine) assert.equal(lines.length, 1, `one line\n${context}`);
  const text = lines.join('\n');
  for (const part of expect.says) {
    if (typeof part === 'string')
      assert.ok(text.includes(part), `the message says ${JSON.stringify(part)}\n${context}`);
    else assert.match(text, part, context);
  }
  assert.deepEqual(processesMentioning(dir), [], `processes of this run are left\n${context}`);
}

/** The events the run wrote to `dir`/events.ndjson; the last one must be arbiter.exited with `code`. */
export function assertExitEvent(dir: string, code: number | null): ArbiterEvent[] {
  const events = readFileSync(join(dir, 'events.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const parsed = parseEvent(line);
      assert.ok(parsed.ok, line);
      return parsed.value;
    });
  const last = events.at(-1);
  assert.ok(last?.type === 'arbiter.exited', `last event: ${JSON.stringify(last)}`);
  assert.equal(last.code, code);
  return events;
}

export const SERVER = `require('node:http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);\n`;

/** A directory with a working app, for the cases where only the options are wrong. */
export function withApp(t: TestContext): { dir: string; app: string } {
  const dir = project(t, { 'app.js': SERVER });
  return { dir, app: join(dir, 'app.js') };
}
