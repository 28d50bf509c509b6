/**
 * Which requests a drain waits on: as the stop begins (if any are in flight), then every second
 * while any remain, then once more, empty, when the last one ended — so the editor can show
 * "waiting on GET /export for 12 s", and the arbiter knows which ones a kill cut.
 */
import { IN_FLIGHT_LIST_LIMIT, type WorkerMessage } from '../protocol/control';
import type { AppServers } from './app-servers';

const REPORT_INTERVAL_MS = 1000;

export class DrainReport {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly servers: AppServers,
    private readonly send: (message: WorkerMessage) => void,
  ) {}

  start(): void {
    if (this.timer || this.servers.inflight === 0) return;
    this.report();
    // unref'd: it never keeps a worker alive that has nothing else to do.
    this.timer = setInterval(() => this.report(), REPORT_INTERVAL_MS).unref();
  }

  private report(): void {
    const total = this.servers.inflight;
    this.send({ type: 'requests', requests: this.servers.inflightRequests(IN_FLIGHT_LIST_LIMIT), total });
    if (total === 0) clearInterval(this.timer);
  }
}
