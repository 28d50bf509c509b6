/**
 * A real redis-server on loopback for the tests whose apps hold a connection pool, started on a
 * free port and killed when the test ends. `clients()` asks Redis itself how many clients are
 * connected (INFO clients, over RESP), which is what "the pool was closed" means.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

const DEADLINE_MS = 10_000;

export type RedisServer = { port: number; url: string; clients: () => Promise<number> };

/** One request, one reply (a bulk string is all INFO sends). */
function command(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    const timer = setTimeout(() => socket.destroy(new Error(`redis did not answer ${line}`)), DEADLINE_MS);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      const header = /^\$(\d+)\r\n/.exec(reply);
      if (header && Buffer.byteLength(reply) >= header[0].length + Number(header[1]) + 2) {
        clearTimeout(timer);
        socket.end();
        resolve(reply.slice(header[0].length));
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export async function startRedis(t: { after: (fn: () => Promise<void>) => void }): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-redis-'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server not ready:\n${output}`)), DEADLINE_MS);
    child.once('error', reject);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  // Our own INFO connection is one of the connected clients.
  const clients = async () =>
    Number(/connected_clients:(\d+)/.exec(await command(port, 'INFO clients'))?.[1]) - 1;
  return { port, url: `redis://127.0.0.1:${port}/0`, clients };
}
