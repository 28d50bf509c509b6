/**
 * What the app holds open, as the worker reports it: when its stop begins, and after its hooks
 * just before it exits (runner/proc/held-resources.ts reads /proc/self). The runtime's own
 * descriptors — stdio, the control channel, the arbiter's listening sockets — and its inspector
 * are left out: what remains is the app's.
 */
import { CONTROL_FD, type WorkerMessage } from '../protocol/control';
import { heldResources, heldResourcesSoon, type SnapshotOptions } from '../proc/held-resources';
import { inspectorPort } from './inspector';

export class HeldReports {
  private exitSent = false;
  private listenFds: readonly number[] = [];

  constructor(private readonly send: (message: WorkerMessage) => void) {}

  /** The arbiter's listening sockets, as the boot message names them: never the app's own. */
  booted(listenFds: readonly number[]): void {
    this.listenFds = listenFds;
  }

  /** As the stop begins, before the app's shutdown code runs (the TCP tables are read off the loop). */
  async atStop(): Promise<void> {
    const held = await heldResourcesSoon('self', this.options());
    this.send({ type: 'resources', at: 'stop', held });
  }

  /** After the hooks, when the worker itself ends the process. */
  async beforeExit(): Promise<void> {
    const held = await heldResourcesSoon('self', this.options());
    this.exitSent = true;
    this.send({ type: 'resources', at: 'exit', held });
  }

  /** At the process's 'exit' (an app that owns its exit): read synchronously, the loop is over. */
  atExit(): void {
    if (this.exitSent) return;
    this.exitSent = true;
    this.send({ type: 'resources', at: 'exit', held: heldResources('self', this.options()) });
  }

  private options(): SnapshotOptions {
    const port = inspectorPort();
    return {
      ignoreFds: new Set([0, 1, 2, CONTROL_FD, ...this.listenFds]),
      ownPorts: new Set(port ? [port] : []),
    };
  }
}
