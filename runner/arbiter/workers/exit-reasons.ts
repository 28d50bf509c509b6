/**
 * Words for how a worker ended, for the log, the `worker.exited` event and the editor's tree.
 * A reason says what happened and, where it was a failure, what the worker last said.
 */
import { existsSync } from 'node:fs';
import type { ErrorInfo, WorkerState } from '../../protocol/events';

type WorkerFacts = {
  stderrTail: readonly string[];
  bootError?: ErrorInfo | undefined;
  lingering?: string[] | undefined;
  /** Why it was killed when someone asked for it (not its stop deadline). */
  killRequest?: string | undefined;
};

function how(code: number | null, signal: string | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code ?? '?'}`;
}

/** One line: the final state's meaning and the process's exit status. */
export function describeExit(
  state: WorkerState,
  code: number | null,
  signal: string | null,
  worker?: WorkerFacts,
): string {
  const status = how(code, signal);
  switch (state) {
    case 'exited':
      return `exited (${status})`;
    case 'killed':
      if (worker?.killRequest) return `killed on request: ${worker.killRequest} (${status})`;
      return `killed at its stop deadline (${status})${worker?.lingering?.length ? `; it was kept alive by ${worker.lingering.join(', ')}` : ''}`;
    case 'timed-out':
      return `stopped answering its heartbeat and was aborted (${status})`;
    case 'boot-failed':
      return `failed to boot (${status})${worker?.bootError ? `: ${worker.bootError.message}` : ''}`;
    case 'crashed':
      return `crashed (${status})${lastWords(worker)}`;
    case 'booting':
    case 'ready':
    case 'draining':
      return status;
  }
}

/** The error a failed generation reports when the worker said nothing structured. */
export function describeBootFailure(
  worker: WorkerFacts & { id: number },
  code: number | null,
  signal: string | null,
): ErrorInfo {
  return withLastOutput(worker, `worker ${worker.id} exited before it was ready (${how(code, signal)})`);
}

/** The error of a generation one of whose workers was ready and then exited before the rest were. */
export function describeEarlyCrash(
  worker: WorkerFacts & { id: number },
  code: number | null,
  signal: string | null,
): ErrorInfo {
  return withLastOutput(
    worker,
    `worker ${worker.id} crashed after it was ready, while its generation was still booting (${how(code, signal)})`,
  );
}

/** `message`, and what the worker last wrote to stderr: what explains a crash the runtime could not report. */
function withLastOutput(worker: WorkerFacts, message: string): ErrorInfo {
  const tail = worker.stderrTail.join('\n').trim();
  return { message: tail ? `${message}; its last output:\n${tail}` : message };
}

function lastWords(worker?: WorkerFacts): string {
  if (worker?.bootError) return `: ${worker.bootError.message}`;
  const last = worker?.stderrTail.findLast((line) => line.trim());
  return last ? `; last output: ${last.trim()}` : '';
}

/** Why a worker process could not be started, from the spawn's error (Node names only the command). */
export function describeSpawnFailure(error: NodeJS.ErrnoException, cwd: string): string {
  const code = error.code ?? 'error';
  switch (code) {
    case 'ENOENT':
      return existsSync(cwd)
        ? `${error.path ?? 'the interpreter'} was not found (ENOENT)`
        : `the working directory ${cwd} does not exist (ENOENT)`;
    case 'EMFILE':
      return 'too many open files (EMFILE): raise the limit (ulimit -n) or run fewer workers';
    case 'ENFILE':
      return 'the system has too many open files (ENFILE)';
    case 'EAGAIN':
      return 'the system refused another process (EAGAIN: a process or thread limit)';
    case 'ENOMEM':
      return 'not enough memory (ENOMEM)';
    case 'EACCES':
      return `permission denied (EACCES): ${error.path ?? 'the interpreter'} or the working directory ${cwd}`;
    default:
      return `${error.message} (${code})`;
  }
}
