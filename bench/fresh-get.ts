/** One GET on a fresh connection (no keep-alive agent), with a timeout: how the benchmarks poll. */
import http from 'node:http';

export const REQUEST_TIMEOUT_MS = 5_000;

export type Response = { status: number; body: string };

export function get(port: number, path: string): Promise<Response> {
  return new Promise((resolveResponse, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolveResponse({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.setTimeout(REQUEST_TIMEOUT_MS, () => request.destroy(new Error('timed out')));
    request.on('error', reject);
  });
}
