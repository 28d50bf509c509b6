import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { heldResources, parseTcpTable, serviceOf } from '../../runner/proc/held-resources';

test('parseTcpTable reads the kernel table: addresses, the peer port, state and inode', () => {
  const v4 = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0  0 123456 1 0',
    '   1: 0100007F:C350 0100007F:18EB 01 00000000:00000000 00:00000000 00000000  0  0 654321 1 0',
  ].join('\n');
  assert.deepEqual(parseTcpTable(v4, false), [
    {
      local: '127.0.0.1:8000',
      localPort: 8000,
      remote: '0.0.0.0:0',
      remotePort: 0,
      state: '0A',
      inode: '123456',
    },
    {
      local: '127.0.0.1:50000',
      localPort: 50000,
      remote: '127.0.0.1:6379',
      remotePort: 6379,
      state: '01',
      inode: '654321',
    },
  ]);
  const v6 = [
    '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  0  0 111 1 0',
    '   1: 0000000000000000FFFF00000100007F:D431 0000000000000000FFFF00000100007F:1538 01 00000000:00000000 00:00000000 00000000  0  0 222 1 0',
  ].join('\n');
  const [listening, mapped] = parseTcpTable(v6, true);
  assert.equal(listening!.local, '[::1]:8080');
  assert.equal(mapped!.remote, '127.0.0.1:5432', 'an IPv4 peer of an IPv6 socket reads as IPv4');
});

test('serviceOf names the well-known ports of the services apps pool connections to', () => {
  const table: [number, string | undefined][] = [
    [6379, 'Redis'],
    [5432, 'PostgreSQL'],
    [3306, 'MySQL'],
    [27017, 'MongoDB'],
    [9092, 'Kafka'],
    [5672, 'AMQP'],
    [11211, 'Memcached'],
    [8080, undefined],
  ];
  for (const [port, service] of table) assert.equal(serviceOf(port), service, String(port));
});

test('heldResources of a real process: its connections by peer, its open file, its child', async (t) => {
  const server = net.createServer((socket) => socket.on('error', () => undefined));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  t.after(() => server.close());
  // Two connections to the server, a file held open, a child that sleeps: then it says so.
  const script = `
    const net = require('node:net'); const fs = require('node:fs'); const { spawn } = require('node:child_process');
    fs.openSync(${JSON.stringify(__filename)}, 'r');
    spawn('sleep', ['30'], { stdio: 'ignore' });
    let open = 0;
    for (let i = 0; i < 2; i++) net.connect(${port}, '127.0.0.1', () => { if (++open === 2) console.log('held'); });
    setInterval(() => {}, 1000);`;
  // In a group of its own, so that the test ends it and its sleep together, whatever fails.
  const child = spawn(process.execPath, ['-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  t.after(() => process.kill(-child.pid!, 'SIGKILL'));
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  assert.equal(chunk.toString().trim(), 'held');

  const held = heldResources(child.pid!);
  assert.equal(held.unreadable, undefined);
  assert.deepEqual(held.connections, [{ peer: `127.0.0.1:${port}`, count: 2 }]);
  assert.ok(held.files.includes(__filename), `files: ${held.files.join(', ')}`);
  assert.ok(
    held.children.some((each) => each.command === 'sleep 30'),
    `children: ${JSON.stringify(held.children)}`,
  );
  assert.deepEqual(held.listening, []);
});

test('heldResources of a process that is gone says it could not read it', () => {
  const held = heldResources(2 ** 22 + 1);
  assert.equal(held.unreadable, 'ENOENT');
});
