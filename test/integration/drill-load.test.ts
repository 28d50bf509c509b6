/**
 * The drill's load (runner/drill/load.ts) against a real server that closes a kept-alive
 * connection unanswered, as an old worker does to a request that reaches it after a reload: the
 * request goes again on a fresh connection, as HTTP clients do, and counts as retried, not lost.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import { test } from 'node:test';
import { Load } from '../../runner/drill/load';

test('a kept-alive connection closed under a request: sent again on a fresh one, counted as retried, none failed', async (t) => {
  let closedOne = false;
  let answered = 0;
  let enough: () => void = () => undefined;
  const answeredEnough = new Promise<void>((resolve) => (enough = resolve));
  const requestsOn = new WeakMap<net.Socket, number>();
  const server = http.createServer((request, response) => {
    const n = (requestsOn.get(request.socket) ?? 0) + 1;
    requestsOn.set(request.socket, n);
    if (n === 2 && !closedOne) {
      closedOne = true;
      return void request.socket.destroy(); // unanswered, on a connection it kept alive
    }
    response.end('ok');
    if (++answered === 40) enough();
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const { port } = server.address() as net.AddressInfo;
  const load = new Load(port, '/', 2, () => 'serving');
  await answeredEnough;
  const result = await load.stop();
  server.closeAllConnections();
  assert.ok(closedOne, 'a kept-alive connection carried a second request');
  assert.deepEqual(result.failed, []);
  assert.equal(result.retried, 1);
  assert.equal(result.ok, result.sent);
  assert.ok(result.keptAlive > 0 && result.keptAlive < result.sent, 'one client kept alive, one did not');
});
