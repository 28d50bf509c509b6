/** The Node cluster twin (bench/fixtures/cluster.mjs): started, awaited until it serves, stopped. */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { LineSplitter } from '../runner/protocol/line-splitter';
import { within } from './deadline';
import { isAlive } from './proc';

const PRIMARY = resolve(__dirname, 'fixtures/cluster.mjs');

type Ready = { ready: true; port: number; ports: number[]; pids: number[] };

export class ClusterServer {
  port = 0;
  workerPids: number[] = [];
  private output = '';
  private hasExited = false;
  readonly exited: Promise<void>;

  private constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolveExit) =>
      child.once('exit', () => {
        this.hasExited = true;
        resolveExit();
      }),
    );
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => (this.output += chunk));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Starts the primary with `workers` workers and waits until every one listens. */
  static async start(workers: number, deadlineMs = 20_000): Promise<ClusterServer> {
    const child = spawn(process.execPath, [PRIMARY], {
      env: { ...process.env, PORT: '0', WORKERS: String(workers) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new ClusterServer(child);
    try {
      const ready = await within(
        new Promise<Ready>((resolveReady, reject) => {
          const lines = new LineSplitter((line) => {
            if (line.startsWith('{')) resolveReady(JSON.parse(line) as Ready);
          });
          child.stdout.setEncoding('utf8');
          child.stdout.on('data', (chunk: string) => lines.push(chunk));
          void server.exited.then(() => reject(new Error('the cluster primary exited while booting')));
        }),
        deadlineMs,
        'cluster boot',
      );
      if (ready.ports.length !== 1) throw new Error(`cluster workers listen on ${ready.ports.join(', ')}`);
      server.port = ready.port;
      server.workerPids = ready.pids;
      return server;
    } catch (error) {
      await server.stop();
      throw new Error(`${(error as Error).message}\n--- cluster output ---\n${server.output}`, {
        cause: error,
      });
    }
  }

  /** SIGTERM to the primary, which stops its workers and exits; anything left is killed. */
  async stop(deadlineMs = 10_000): Promise<void> {
    if (!this.hasExited) this.child.kill('SIGTERM');
    try {
      await within(this.exited, deadlineMs, 'cluster stop');
    } catch {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    for (const pid of this.workerPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
}
