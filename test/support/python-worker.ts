/**
 * The Python worker runtime alone, started as the arbiter starts it (python-worker-driver.py):
 * a test sends its control messages (`preload`, `boot`) and waits, with deadlines, on the
 * messages it answers with. The driver and the worker are reaped when the test ends: closing
 * the driver's stdin closes the worker's control channel, and an orphaned worker leaves.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PYTHON } from './real-python-apps';

const DRIVER = join(__dirname, 'python-worker-driver.py');
const DEADLINE_MS = 20_000;

/** A control message, as the worker sent it (validated by the tests against the spec). */
export type Message = { type: string; [field: string]: unknown };

export type PythonWorker = {
  /** The port of the listening socket the worker serves on (its fd 4). */
  port: number;
  send(message: Message): void;
  /** Sends the boot message the arbiter would send (boot-message.ts) for `app`. */
  boot(app: string, env?: Record<string, string>, python?: Record<string, unknown>): void;
  /** The first message of `type` matching `test`, already received or still to come. */
  waitFor(type: string, test?: (message: Message) => boolean, deadlineMs?: number): Promise<Message>;
  /** Every message received so far. */
  messages: Message[];
  /** When a message arrived (Date.now()). */
  arrivedAt: (message: Message) => number;
  output: () => string;
};

export async function startPythonWorker(
  t: { after: (fn: () => Promise<void>) => void },
  dir: string,
  app: string,
  env: NodeJS.ProcessEnv = {},
): Promise<PythonWorker> {
  const child = spawn(PYTHON, [DRIVER, dir, app], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(async () => {
    child.stdin.end();
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
  });
  const messages: Message[] = [];
  const arrivals = new Map<Message, number>();
  const waiters = new Set<() => void>();
  let stderr = '';
  let pending = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines.filter((text) => text.trim())) {
      const message = JSON.parse(line) as Message;
      messages.push(message);
      arrivals.set(message, Date.now());
    }
    for (const wake of waiters) wake();
  });
  const output = () =>
    `--- messages ---\n${messages.map((m) => JSON.stringify(m)).join('\n')}\n--- stderr ---\n${stderr}`;

  function waitFor(type: string, test: (message: Message) => boolean = () => true, deadlineMs = DEADLINE_MS) {
    return new Promise<Message>((resolve, reject) => {
      const look = () => {
        const found = messages.find((message) => message.type === type && test(message));
        if (!found) return false;
        done();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${type} message within ${deadlineMs} ms\n${output()}`));
      }, deadlineMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(look);
      };
      if (!look()) waiters.add(look);
    });
  }

  const send = (message: Message) => child.stdin.write(`${JSON.stringify(message)}\n`);
  const port = Number((await waitFor('driver.listening')).port);
  return {
    port,
    send,
    boot: (app, bootEnv, python = {}) =>
      send({
        type: 'boot',
        id: 1,
        generation: 1,
        app,
        ...(bootEnv ? { env: bootEnv } : {}),
        sourceMaps: false,
        longLivedGraceMs: 1000,
        port: String(port),
        listenFds: [4],
        maxRequests: 0,
        heartbeatMs: 1000,
        python,
      }),
    waitFor,
    messages,
    arrivedAt: (message) => arrivals.get(message) ?? NaN,
    output,
  };
}
