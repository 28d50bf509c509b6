/**
 * Opens one `--events` target and picks its writer by what it turns out to be (fstat after
 * opening, so a path swapped in between cannot fool it): regular files and devices that never
 * block get synchronous appends; pipes, FIFOs, sockets and terminals a non-blocking writer.
 * A path is opened non-blocking, so a FIFO that no process reads is an error now (ENXIO)
 * rather than an open() that waits for a reader for ever.
 */
import { constants, fstatSync, openSync, statSync } from 'node:fs';
import { isatty } from 'node:tty';
import { EventFileWriter } from './event-file-writer';
import { EventStreamWriter, type StreamWriterEvents } from './event-stream-writer';
import { whyNotInherited } from './inherited-fds';

export type EventWriter = EventFileWriter | EventStreamWriter;

/** A target that cannot be opened, said in one line that names it. */
export class EventTargetError extends Error {
  constructor(
    path: string,
    /** What is wrong, without the path: for a line that already names it. */
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`--events ${path}: ${problem}`, options);
  }
}

const { O_WRONLY, O_CREAT, O_APPEND, O_NONBLOCK, O_NOCTTY } = constants;
const OPEN_FLAGS = O_WRONLY | O_CREAT | O_APPEND | O_NONBLOCK | O_NOCTTY;

/** `/dev/fd/N`: an fd the arbiter inherited (how the editor and the tests follow the stream). */
export function inheritedFd(path: string): number | undefined {
  const match = /^\/dev\/fd\/(\d+)$/.exec(path);
  return match ? Number(match[1]) : undefined;
}

/** Opens `path` (a file, FIFO or terminal, or `/dev/fd/N`) for appending events. */
export function openEventWriter(path: string, events: StreamWriterEvents): EventWriter {
  const fd = inheritedFd(path);
  if (fd !== undefined) return openInherited(fd, path, events);
  let opened: number;
  try {
    opened = openSync(path, OPEN_FLAGS, 0o666);
  } catch (error) {
    throw new EventTargetError(path, describeOpenError(path, error as NodeJS.ErrnoException), {
      cause: error,
    });
  }
  return writerFor(opened, true, events);
}

function writerFor(fd: number, owned: boolean, events: StreamWriterEvents): EventWriter {
  const stat = fstatSync(fd);
  if (stat.isFIFO() || stat.isSocket()) return EventStreamWriter.forSocket(fd, events);
  if (isatty(fd)) return EventStreamWriter.forTerminal(fd, events);
  return new EventFileWriter(fd, owned);
}

function openInherited(fd: number, path: string, events: StreamWriterEvents): EventWriter {
  const problem = whyNotInherited(fd);
  if (problem)
    throw new EventTargetError(
      path,
      `${problem}; give it one, e.g. 9>events.ndjson in the shell with --events /dev/fd/9`,
    );
  const stat = fstatSync(fd);
  if (!stat.isFIFO() && !isatty(fd)) {
    if (!stat.isSocket()) return new EventFileWriter(fd, false);
    // A socket cannot be opened again through /proc. Fds 1 and 2 have Node's own streams,
    // and a second stream on one fd would break libuv: the events share them.
    if (fd === 1 || fd === 2)
      return new EventStreamWriter(fd === 1 ? process.stdout : process.stderr, events, false);
    try {
      return EventStreamWriter.forSocket(fd, events);
    } catch (error) {
      // A datagram socket: libuv streams only stream sockets.
      throw new EventTargetError(path, `fd ${fd} is not a stream: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  // A pipe or terminal is opened again through /proc: an open file description of the
  // arbiter's own, which it may make non-blocking without changing the fd for whoever shares
  // it (a shell, the next command of a pipeline).
  let own: number;
  try {
    own = openSync(`/proc/self/fd/${fd}`, O_WRONLY | O_NONBLOCK | O_NOCTTY);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new EventTargetError(
      path,
      code === 'ENXIO' ? `no process reads fd ${fd}` : (error as Error).message,
      {
        cause: error,
      },
    );
  }
  return writerFor(own, true, events);
}

function describeOpenError(path: string, error: NodeJS.ErrnoException): string {
  if (error.code !== 'ENXIO') return `cannot open it: ${error.message}`;
  let socket = false;
  try {
    socket = statSync(path).isSocket();
  } catch {
    // gone meanwhile: it was the FIFO open() found
  }
  return socket
    ? 'a Unix socket cannot be opened; pass a connected one as /dev/fd/N'
    : `no process reads the FIFO ${path} (start its reader first)`;
}
