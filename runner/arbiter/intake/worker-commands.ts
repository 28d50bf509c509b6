/**
 * What the editor's commands do to workers (intake/commands.ts decides which command it is):
 * open inspectors, pause deadlines under a debugger, kill or stop a worker, pass a signal on;
 * and the signals that act on every worker: reopen their logs (USR1), stop them all (WINCH).
 * Built from the parts that own each of these, so the arbiter only names them; the one piece
 * of state here, whether every later worker opens its inspector too, is this part's own.
 */
import type { Logger } from '../../log/logger';
import type { StopMode } from '../../protocol/control';
import type { Reporter } from '../reporter';
import type { Staffing } from '../workers/staffing';
import type { WorkerControl } from '../workers/worker-control';
import type { WorkerProcess } from '../workers/worker-process';
import type { WorkerSet } from '../workers/worker-set';
import type { CommandTarget } from './commands';

export type WorkerCommandsOptions = {
  workers: WorkerSet<WorkerProcess>;
  control: WorkerControl;
  staffing: Staffing<WorkerProcess>;
  report: Reporter;
  log: Logger;
  /** Every worker opens its inspector from the start (--inspect). */
  inspectAll: boolean;
};

export class WorkerCommands implements CommandTarget<WorkerProcess> {
  /** Every worker, present and future, opens its inspector (--inspect, or the editor asked for all). */
  private inspectingAll: boolean;

  constructor(private readonly options: WorkerCommandsOptions) {
    this.inspectingAll = options.inspectAll;
  }

  /** A worker just spawned: it opens its inspector if every worker does. */
  spawned(worker: WorkerProcess): void {
    if (this.inspectingAll) worker.send({ type: 'inspect' });
  }

  workerWithPid(pid: number): WorkerProcess | undefined {
    return this.options.workers.running(pid);
  }

  inspect(worker: WorkerProcess | undefined): void {
    if (!worker) this.inspectingAll = true;
    for (const each of worker ? [worker] : this.options.workers.all())
      if (!each.exited) each.send({ type: 'inspect' });
  }

  setPaused(worker: WorkerProcess, paused: boolean): void {
    this.options.control.setPaused(worker, paused);
  }

  killGeneration(generation: number, reason: string): void {
    const workers = this.options.workers.ofGeneration(generation);
    this.options.log.info(`killing generation ${generation} (${workers.length} worker(s)): ${reason}`);
    for (const worker of workers) this.options.control.kill(worker, reason);
  }

  killWorker(worker: WorkerProcess, reason: string): void {
    this.options.control.kill(worker, reason);
  }

  stopWorker(worker: WorkerProcess, mode: StopMode, reason: string): void {
    this.options.control.stop(worker, mode, reason);
    this.options.staffing.manage(); // its replacement boots while it drains
  }

  signalWorker(worker: WorkerProcess, signal: NodeJS.Signals, reason: string): void {
    if (worker.signal(signal)) this.options.report.sent(worker, signal, 'os', reason);
  }

  warn(message: string): void {
    this.options.log.warn(message);
  }

  /** USR1: the events file is reopened here, and the app's own logs through its workers. */
  reopenLogs(): void {
    this.options.report.events.reopen();
    for (const worker of this.options.workers.live()) this.options.control.reopenLogs(worker);
  }

  /** WINCH: every worker stops, the sockets stay open; TTIN or HUP brings workers back. */
  stopAll(): void {
    const { log, staffing, report, workers, control } = this.options;
    log.info('SIGWINCH: stopping all workers, keeping the sockets open');
    staffing.set(0);
    report.workerCount(0, 'SIGWINCH');
    for (const worker of workers.live()) control.stop(worker, 'graceful', 'SIGWINCH');
  }
}
