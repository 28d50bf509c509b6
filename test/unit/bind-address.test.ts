import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_BIND,
  formatBindAddress,
  parseBindAddress,
  type BindAddress,
} from '../../runner/config/bind-address';

void test('parses every accepted form', () => {
  const table: [value: string, expected: BindAddress][] = [
    ['127.0.0.1:8080', { kind: 'tcp', host: '127.0.0.1', port: 8080 }],
    ['localhost:3000', { kind: 'tcp', host: 'localhost', port: 3000 }],
    ['127.0.0.1:0', { kind: 'tcp', host: '127.0.0.1', port: 0 }],
    ['0.0.0.0:65535', { kind: 'tcp', host: '0.0.0.0', port: 65535 }],
    [':9000', { kind: 'tcp', host: '0.0.0.0', port: 9000 }],
    [':0', { kind: 'tcp', host: '0.0.0.0', port: 0 }],
    ['localhost', { kind: 'tcp', host: 'localhost', port: 8000 }],
    ['127.0.0.1', { kind: 'tcp', host: '127.0.0.1', port: 8000 }],
    // A bare word is a host name (gunicorn's HOST form), not an error.
    ['abc', { kind: 'tcp', host: 'abc', port: 8000 }],
    ['[::1]:8000', { kind: 'tcp', host: '::1', port: 8000 }],
    ['[::]:0', { kind: 'tcp', host: '::', port: 0 }],
    ['[::1]', { kind: 'tcp', host: '::1', port: 8000 }],
    ['[fe80::1%eth0]:80', { kind: 'tcp', host: 'fe80::1%eth0', port: 80 }],
    ['unix:/tmp/app.sock', { kind: 'unix', path: '/tmp/app.sock' }],
    ['unix:relative.sock', { kind: 'unix', path: 'relative.sock' }],
    ['unix:/tmp/with:colon.sock', { kind: 'unix', path: '/tmp/with:colon.sock' }],
  ];
  for (const [value, expected] of table) assert.deepEqual(parseBindAddress(value), expected, value);
});

void test('the default bind address parses to localhost:8000', () => {
  assert.deepEqual(parseBindAddress(DEFAULT_BIND), { kind: 'tcp', host: '127.0.0.1', port: 8000 });
});

void test('refuses bad addresses with a message naming the value and what was expected', () => {
  const table: [value: string, expected: RegExp][] = [
    ['unix:', /the socket path is empty \(expected HOST:PORT, :PORT, \[IPV6\]:PORT or unix:PATH\)/],
    ['127.0.0.1:70000', /port '70000' is not a number from 0 to 65535/],
    ['127.0.0.1:65536', /port '65536' is not a number from 0 to 65535/],
    ['localhost:abc', /port 'abc' is not a number from 0 to 65535/],
    ['localhost:-1', /port '-1' is not a number from 0 to 65535/],
    ['localhost:80.5', /port '80.5' is not a number from 0 to 65535/],
    ['127.0.0.1:', /port '' is not a number from 0 to 65535/],
    [':', /port '' is not a number from 0 to 65535/],
    ['[::1]:x', /port 'x' is not a number from 0 to 65535/],
    ['[::1]:', /port '' is not a number from 0 to 65535/],
    ['::1', /put IPv6 addresses in brackets, like \[::1\]:8000/],
    ['::1:8000', /put IPv6 addresses in brackets/],
    ['fe80::1', /put IPv6 addresses in brackets/],
    ['', /the host is empty \(expected HOST:PORT/],
  ];
  for (const [value, expected] of table) {
    assert.throws(
      () => parseBindAddress(value),
      (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.ok(
          error.message.startsWith(`invalid bind address '${value}': `),
          `${error.message} names '${value}'`,
        );
        assert.match(error.message, expected);
        return true;
      },
      value,
    );
  }
});

void test('formats addresses the way they are written', () => {
  const table: [address: BindAddress, text: string][] = [
    [{ kind: 'tcp', host: '127.0.0.1', port: 8000 }, '127.0.0.1:8000'],
    [{ kind: 'tcp', host: 'localhost', port: 0 }, 'localhost:0'],
    [{ kind: 'tcp', host: '::1', port: 8000 }, '[::1]:8000'],
    [{ kind: 'tcp', host: '::', port: 80 }, '[::]:80'],
    [{ kind: 'unix', path: '/tmp/app.sock' }, 'unix:/tmp/app.sock'],
  ];
  for (const [address, text] of table) assert.equal(formatBindAddress(address), text);
});

void test('format then parse gives the same address back', () => {
  for (const value of ['127.0.0.1:8000', ':9000', 'localhost', '[::1]:1', '[::1]', 'unix:/tmp/s.sock']) {
    const address = parseBindAddress(value);
    assert.deepEqual(parseBindAddress(formatBindAddress(address)), address, value);
  }
});
