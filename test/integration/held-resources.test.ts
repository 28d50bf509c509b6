/**
 * What a worker still held when it left (issue 16, part 1): reported as `worker.resources` when
 * its stop began and just before it exited, or read from /proc by the arbiter as it killed it;
 * a pool that is never closed shows at the first reload, by peer and service. With real
 * servers: a plain TCP server of the test's, and a real redis-server.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { EventOf } from '../../runner/protocol/events';
import { startArbiter, type ArbiterRun } from '../support/arbiter-run';
import { get } from '../support/http';
import { startRedis } from '../support/redis';

const PYTHON = '/usr/bin/python3';
const noPython = existsSync(PYTHON) ? false : `${PYTHON} is not installed`;

/** A TCP server that accepts and holds every connection, as a database would. */
async function tcpServer(t: { after: (fn: () => void) => void }): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined).on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-held-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** The first worker's `worker.resources` event at `at`. */
const heldAt = (run: ArbiterRun, at: 'stop' | 'exit' | 'kill', generation = 1) =>
  run.waitFor('worker.resources', (event) => event.at === at && event.generation === generation);

const peerCount = (event: EventOf<'worker.resources'>, peer: string) =>
  event.held.connections.find((connection) => connection.peer === peer)?.count ?? 0;

/** A Node app that opens two connections to DB_PORT at start; CLOSE=1 closes them in a shutdown hook. */
const NODE_POOL = `
const http = require('node:http');
const net = require('node:net');
const pool = [0, 1].map(() => net.connect(Number(process.env.DB_PORT), '127.0.0.1'));
let open = 0;
for (const socket of pool) socket.on('connect', () => { if (++open === 2) server.listen(process.env.PORT); });
// As pg's allowExitOnIdle does to idle clients, and an app to a side server it does not wait for.
if (process.env.UNREF === '1') {
  for (const socket of pool) socket.unref();
  net.createServer().listen(0, '127.0.0.1').unref();
}
if (process.env.CLOSE === '1')
  globalThis.arbiter.onShutdown('close the pool', () => Promise.all(pool.map((s) => new Promise((r) => s.end(r)))));
const server = http.createServer((_req, res) => res.end('ok'));
`;

test('a Node app that never closes its connections: left open at exit, by peer, on the first reload', async (t) => {
  const dbPort = await tcpServer(t);
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'app.js'], {
    cwd: project({ 'app.js': NODE_POOL }),
    env: { DB_PORT: String(dbPort) },
  });
  await run.ready(1);
  run.signal('SIGHUP');
  const peer = `127.0.0.1:${dbPort}`;
  assert.equal(peerCount(await heldAt(run, 'stop'), peer), 2);
  const exit = await heldAt(run, 'exit');
  assert.equal(peerCount(exit, peer), 2, JSON.stringify(exit.held));
  await run.waitForOutput(new RegExp(`left open at exit: 2 connections to 127\\.0\\.0\\.1:${dbPort}`));
  // What the runtime itself holds (stdio, fd 3, the shared socket) is not the app's.
  assert.deepEqual(exit.held.listening, []);
});

test("a Node app whose connections and side server are unref'd: still seen at exit (Node's handle list skips them)", async (t) => {
  const dbPort = await tcpServer(t);
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'app.js'], {
    cwd: project({ 'app.js': NODE_POOL }),
    env: { DB_PORT: String(dbPort), UNREF: '1' },
  });
  await run.ready(1);
  run.signal('SIGTERM');
  const peer = `127.0.0.1:${dbPort}`;
  const stop = await heldAt(run, 'stop');
  assert.equal(peerCount(stop, peer), 2, JSON.stringify(stop.held));
  const exit = await heldAt(run, 'exit');
  assert.equal(peerCount(exit, peer), 2, JSON.stringify(exit.held));
  assert.equal(exit.held.listening.length, 1, JSON.stringify(exit.held));
  assert.match(exit.held.listening[0]!, /^127\.0\.0\.1:\d+$/);
  assert.equal((await run.waitExit()).code, 0);
});

test("with --inspect: the inspector's own thread and its socket are not the app's", async (t) => {
  const dbPort = await tcpServer(t);
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', '--inspect', 'app.js'], {
    cwd: project({ 'app.js': NODE_POOL }),
    env: { DB_PORT: String(dbPort), CLOSE: '1' },
  });
  await run.ready(1);
  await run.waitFor('worker.inspector');
  run.signal('SIGTERM');
  const [stop, exit] = [await heldAt(run, 'stop'), await heldAt(run, 'exit')];
  assert.deepEqual(stop.held.listening, [], JSON.stringify(stop.held));
  assert.deepEqual(
    stop.held.connections.map((connection) => connection.peer),
    [`127.0.0.1:${dbPort}`],
  );
  assert.deepEqual(exit.held.listening, [], JSON.stringify(exit.held));
  assert.deepEqual(exit.held.connections, []);
  assert.equal((await run.waitExit()).code, 0);
});

test('a Node app that closes its pool in a shutdown hook: 2 at the stop, 0 at exit, nothing said', async (t) => {
  const dbPort = await tcpServer(t);
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'app.js'], {
    cwd: project({ 'app.js': NODE_POOL }),
    env: { DB_PORT: String(dbPort), CLOSE: '1' },
  });
  await run.ready(1);
  run.signal('SIGTERM');
  const peer = `127.0.0.1:${dbPort}`;
  assert.equal(peerCount(await heldAt(run, 'stop'), peer), 2);
  assert.equal(peerCount(await heldAt(run, 'exit'), peer), 0);
  assert.equal((await run.waitExit()).code, 0);
  assert.doesNotMatch(run.output, /left open at exit/);
});

test('a worker killed at its graceful timeout: what it held is read from outside, before the kill', async (t) => {
  const dbPort = await tcpServer(t);
  // Its SIGTERM handler owns the exit and never exits: the deadline kills it.
  const app = `${NODE_POOL}\nprocess.on('SIGTERM', () => {});\n`;
  const run = startArbiter(
    t,
    ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', '--graceful-timeout', '1', 'app.js'],
    { cwd: project({ 'app.js': app }), env: { DB_PORT: String(dbPort) } },
  );
  await run.ready(1);
  run.signal('SIGTERM');
  const killed = await heldAt(run, 'kill');
  assert.equal(peerCount(killed, `127.0.0.1:${dbPort}`), 2, JSON.stringify(killed.held));
  await run.waitForOutput(/held when killed: 2 connections to 127\.0\.0\.1:\d+/);
  await run.waitExit();
});

/** Flask with a Redis pool of three connections; CLEANUP=1 registers the atexit that closes it. */
const FLASK_REDIS = `
import atexit
import os

import redis
from flask import Flask

pool = redis.ConnectionPool.from_url(os.environ["REDIS_URL"])
held = [pool.get_connection("PING") for _ in range(3)]
for connection in held:
    connection.connect()
    pool.release(connection)
app = Flask(__name__)


@app.route("/")
def index():
    return "ok"


if os.environ.get("CLEANUP") == "1":
    atexit.register(pool.disconnect)
`;

for (const cleanup of [true, false]) {
  test(
    `Flask + Redis pool ${cleanup ? 'with' : 'without'} its atexit cleanup: Redis 3 → ${cleanup ? '0' : '3, named as a leak'} at the first reload`,
    { skip: noPython },
    async (t) => {
      const redis = await startRedis(t);
      const run = startArbiter(
        t,
        ['--python', PYTHON, '-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'shop:app'],
        {
          cwd: project({ 'shop.py': FLASK_REDIS }),
          env: { REDIS_URL: redis.url, CLEANUP: cleanup ? '1' : '0' },
        },
      );
      await run.ready(1);
      assert.equal((await get(await run.port())).body, 'ok');
      run.signal('SIGHUP');
      const peer = `127.0.0.1:${redis.port}`;
      const stop = await heldAt(run, 'stop');
      const atStop = stop.held.connections.find((connection) => connection.peer === peer);
      // A Redis on a port of its own is still named: the arbiter finds redis-server listening there.
      assert.deepEqual(atStop, { peer, service: 'Redis', count: 3 });
      const exit = await heldAt(run, 'exit');
      assert.equal(peerCount(exit, peer), cleanup ? 0 : 3, JSON.stringify(exit.held));
      if (!cleanup)
        await run.waitForOutput(
          new RegExp(`left open at exit: 3 connections to Redis 127\\.0\\.0\\.1:${redis.port}`),
        );
      await run.ready(1, 2);
    },
  );
}
