/**
 * A command from the tool that drives the arbiter (--stdin-commands, protocol/commands.ts):
 * what the user asked for in the editor, done by the arbiter so that the event stream says who
 * asked. One exhaustive switch from command to verb; the verbs are the arbiter's.
 */
import type { ArbiterCommand } from '../../protocol/commands';
import type { StopMode } from '../../protocol/control';

/** What a command can ask of the arbiter, about the worker `W` a pid names. */
export type CommandTarget<W> = {
  /** The running worker with this pid, if the arbiter has one. */
  workerWithPid(pid: number): W | undefined;
  /** Open one worker's inspector, or (undefined) every worker's, and every later one's. */
  inspect(worker: W | undefined): void;
  setPaused(worker: W, paused: boolean): void;
  killGeneration(generation: number, reason: string): void;
  killWorker(worker: W, reason: string): void;
  /** Stop one worker in `mode`; its replacement boots while it drains. */
  stopWorker(worker: W, mode: StopMode, reason: string): void;
  /** Deliver a signal that means nothing to the arbiter as it is. */
  signalWorker(worker: W, signal: NodeJS.Signals, reason: string): void;
  warn(message: string): void;
};

const DEFAULT_REASON = 'asked by the tool that started the arbiter';

export function runCommand<W>(command: ArbiterCommand, target: CommandTarget<W>): void {
  switch (command.type) {
    case 'inspect': {
      if (command.pid === undefined) return target.inspect(undefined);
      const worker = target.workerWithPid(command.pid);
      if (worker) target.inspect(worker);
      return;
    }
    case 'debugger': {
      // A worker that exited as the debugger noticed: nothing to pause, nothing to say.
      const worker = target.workerWithPid(command.pid);
      if (worker) target.setPaused(worker, command.paused);
      return;
    }
    case 'kill-generation':
      return target.killGeneration(command.generation, command.reason ?? DEFAULT_REASON);
    case 'signal-worker': {
      const worker = target.workerWithPid(command.pid);
      if (!worker)
        return target.warn(
          `${command.signal} for pid ${command.pid} ignored: no worker of this arbiter has it`,
        );
      const reason = command.reason ?? DEFAULT_REASON;
      switch (command.signal) {
        case 'SIGKILL':
          return target.killWorker(worker, reason);
        case 'SIGTERM':
          return target.stopWorker(worker, 'graceful', reason);
        case 'SIGINT':
        case 'SIGQUIT':
          return target.stopWorker(worker, 'quick', reason);
        case 'SIGHUP':
        case 'SIGUSR2':
        case 'SIGABRT':
          return target.signalWorker(worker, command.signal, reason);
      }
    }
  }
}
