/** Where the arbiter listens: a TCP host and port, or a Unix socket path. */
export type BindAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

export const DEFAULT_BIND = '127.0.0.1:8000';
/** Linux's sun_path holds 108 bytes, the terminating NUL included. */
const MAX_SOCKET_PATH = 107;
const DEFAULT_PORT = 8000;

/**
 * Parses a `--bind` value the way gunicorn does: `HOST:PORT`, `:PORT` (all interfaces),
 * `HOST` (port 8000), `[IPV6]:PORT`, `unix:PATH`. Port 0 asks the OS for any free port.
 * Throws an Error whose message names the value and what was expected.
 */
export function parseBindAddress(value: string): BindAddress {
  const expected = `expected HOST:PORT, :PORT, [IPV6]:PORT or unix:PATH`;
  if (value.startsWith('unix:')) {
    const path = value.slice('unix:'.length);
    if (!path) throw new Error(`invalid bind address '${value}': the socket path is empty (${expected})`);
    // The kernel copies the path into a 108-byte field with its NUL: a longer one would be
    // bound under a truncated name.
    const bytes = Buffer.byteLength(path);
    if (bytes > MAX_SOCKET_PATH)
      throw new Error(
        `invalid bind address '${value}': the path is ${bytes} bytes long, and a socket path may be at most ${MAX_SOCKET_PATH} (a shorter or a relative path will do)`,
      );
    return { kind: 'unix', path };
  }
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(value);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
  } else if ((value.match(/:/g) ?? []).length > 1) {
    throw new Error(`invalid bind address '${value}': put IPv6 addresses in brackets, like [::1]:8000`);
  } else {
    const colon = value.lastIndexOf(':');
    host = colon === -1 ? value : value.slice(0, colon);
    portText = colon === -1 ? undefined : value.slice(colon + 1);
    if (colon !== -1 && host === '') host = '0.0.0.0';
  }
  if (!host) throw new Error(`invalid bind address '${value}': the host is empty (${expected})`);
  if (portText === undefined) return { kind: 'tcp', host, port: DEFAULT_PORT };
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) {
    throw new Error(`invalid bind address '${value}': port '${portText}' is not a number from 0 to 65535`);
  }
  return { kind: 'tcp', host, port: Number(portText) };
}

/** How an address is written in logs and URLs. */
export function formatBindAddress(address: BindAddress): string {
  if (address.kind === 'unix') return `unix:${address.path}`;
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
