/** HTTP the way the tests need it: fresh connections (no pooling hides a refused connect). */
import http from 'node:http';

export type Response = { status: number; body: string; pid: number | undefined };

export function get(
  port: number,
  path = '/',
  options: { timeoutMs?: number; socketPath?: string } = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      {
        host: '127.0.0.1',
        port,
        path,
        agent: false,
        ...(options.socketPath ? { socketPath: options.socketPath } : {}),
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          const pid = Number(response.headers['x-worker-pid']);
          resolve({ status: response.statusCode ?? 0, body, pid: Number.isNaN(pid) ? undefined : pid });
        });
        response.on('error', reject);
      },
    );
    request.setTimeout(options.timeoutMs ?? 15_000, () =>
      request.destroy(new Error(`GET ${path} timed out`)),
    );
    request.on('error', reject);
  });
}

/**
 * Sends requests from `concurrency` clients, each a fresh connection, until `stop` resolves;
 * counts what succeeded and what failed (refused, reset, non-200).
 */
export async function load(
  port: number,
  stop: Promise<unknown>,
  concurrency = 4,
  {
    path = '/',
    timeoutMs,
    onAnswer,
  }: {
    path?: string;
    timeoutMs?: number;
    /** Each 200 answer, with when its request was sent (Date.now()). */
    onAnswer?: (body: string, sentAt: number) => void;
  } = {},
): Promise<{ ok: number; failed: number; errors: string[] }> {
  let done = false;
  void stop.finally(() => (done = true));
  const result = { ok: 0, failed: 0, errors: [] as string[] };
  const client = async () => {
    while (!done) {
      try {
        const sentAt = Date.now();
        const response = await get(port, path, timeoutMs ? { timeoutMs } : {});
        if (response.status === 200) {
          result.ok++;
          onAnswer?.(response.body, sentAt);
        } else {
          result.failed++;
          result.errors.push(`status ${response.status}${errorTitle(response.body)}`);
        }
      } catch (error) {
        result.failed++;
        result.errors.push((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return result;
}

/** What an error page says it is (a framework's debug page names the exception in its title). */
function errorTitle(body: string): string {
  const title = /<title>\s*([^<]*?)\s*<\/title>/i.exec(body)?.[1];
  const said = title ?? body.split('\n', 1)[0]!.slice(0, 160);
  return said ? `: ${said}` : '';
}
