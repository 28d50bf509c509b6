/**
 * Clients that poll a server whose answers name their generation ("gen G PID", the
 * generations.js and tagged.py fixtures) and check the cycle's promise: no request sent after
 * some client saw generation G is answered by a generation older than G.
 */
import http from 'node:http';

export type Polling = {
  /** The newest generation any client has seen answer. */
  newest: number;
  ok: number;
  failed: number;
  /** Requests sent again because a kept-alive connection closed under them (RFC 9112 §9.3.1). */
  retried: number;
  errors: string[];
  /** Answers from an older generation than one already seen when the request was sent. */
  backInTime: string[];
  /** Resolves once every client stopped (after `stop()`). */
  done: Promise<void>;
  stop: () => void;
};

/** `fresh` clients on a new connection each, and `keptAlive` clients each on one kept-alive connection. */
export function pollGenerations(port: number, { fresh = 2, keptAlive = 1 } = {}): Polling {
  let stopped = false;
  const polling: Polling = {
    newest: 0,
    ok: 0,
    failed: 0,
    retried: 0,
    errors: [],
    backInTime: [],
    done: Promise.resolve(),
    stop: () => (stopped = true),
  };
  const client = async (agent: http.Agent | false) => {
    while (!stopped) {
      const newestAtSend = polling.newest;
      try {
        const body = await askRetrying(port, agent, () => polling.retried++);
        const generation = Number(/^gen (\d+) /.exec(body)?.[1]);
        if (Number.isNaN(generation)) throw new Error(`not a generation's answer: ${body}`);
        polling.ok++;
        if (generation < newestAtSend)
          polling.backInTime.push(`gen ${generation} answered after gen ${newestAtSend} was seen (${body})`);
        polling.newest = Math.max(polling.newest, generation);
      } catch (error) {
        polling.failed++;
        polling.errors.push((error as Error).message);
      }
    }
  };
  const agents = Array.from({ length: keptAlive }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const clients = [...Array.from({ length: fresh }, () => client(false)), ...agents.map(client)];
  polling.done = Promise.all(clients).then(() => agents.forEach((agent) => agent.destroy()));
  return polling;
}

/**
 * One GET. On a kept-alive connection that closed before any answer came, sent again — what
 * Node's documentation (request.reusedSocket) and browsers do for an idempotent request.
 */
async function askRetrying(port: number, agent: http.Agent | false, retried: () => void): Promise<string> {
  try {
    return await ask(port, agent);
  } catch (error) {
    if (!(error as { reusedSocket?: boolean }).reusedSocket) throw error;
    retried();
    return ask(port, agent);
  }
}

function ask(port: number, agent: http.Agent | false): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/', agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () =>
        response.statusCode === 200 ? resolve(body) : reject(new Error(`status ${response.statusCode}`)),
      );
      response.on('error', reject);
    });
    request.setTimeout(15_000, () => request.destroy(new Error('GET / timed out')));
    request.on('error', (error: NodeJS.ErrnoException) => {
      const closedUnder = request.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
      reject(Object.assign(error, { reusedSocket: closedUnder }));
    });
  });
}
