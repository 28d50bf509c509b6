/**
 * Reading a file the project holds, safely: only a regular file is ever opened. A FIFO named
 * `.gitignore` would block a plain read until some writer appears (for ever, holding the
 * watcher and every stop that waits for it); a device or a socket has no business being read
 * either. The type is checked before the open (so nothing else is opened at all) and again on
 * the open descriptor (so a name swapped in between is caught); the open is non-blocking, so
 * even a FIFO swapped in at that moment returns at once. Reads are capped.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';

/** What a read gave: the bytes, or why not (`missing`: there is nothing by that name). */
export type ReadResult = { ok: true; data: Buffer } | { ok: false; missing: boolean; problem: string };

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;
const CHUNK_BYTES = 64 * 1024;

/** The whole file, or a refusal if it is not a regular file or holds more than `maxBytes`. */
export function readRegularFile(path: string, maxBytes: number): ReadResult {
  const read = readRegular(path, maxBytes + 1);
  if (read.ok && read.data.length > maxBytes)
    return { ok: false, missing: false, problem: `is larger than ${formatBytes(maxBytes)}` };
  return read;
}

/** The first `bytes` bytes of a regular file (fewer if it is shorter). */
export function readFileHead(path: string, bytes: number): ReadResult {
  return readRegular(path, bytes);
}

function readRegular(path: string, limit: number): ReadResult {
  let fd: number;
  try {
    const kind = kindOf(statSync(path));
    if (kind) return notRegular(kind);
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    return failed(error);
  }
  try {
    const stats = fstatSync(fd);
    const kind = kindOf(stats);
    if (kind) return notRegular(kind);
    // In chunks, whatever the size says: /proc and /sys files say 0.
    const chunks: Buffer[] = [];
    let length = 0;
    while (length < limit) {
      const chunk = Buffer.allocUnsafe(Math.min(limit - length, CHUNK_BYTES));
      const got = readSync(fd, chunk, 0, chunk.length, null);
      if (got === 0) break;
      chunks.push(chunk.subarray(0, got));
      length += got;
    }
    return { ok: true, data: Buffer.concat(chunks, length) };
  } catch (error) {
    return failed(error);
  } finally {
    closeSync(fd);
  }
}

/** What a path is when it is not a regular file, in words; undefined for a regular file. */
function kindOf(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a file';
}

const notRegular = (kind: string): ReadResult => ({
  ok: false,
  missing: false,
  problem: `is not a regular file (${kind})`,
});

function failed(error: unknown): ReadResult {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, missing: true, problem: 'is missing' };
  // A Unix socket cannot be opened at all (ENXIO): it was swapped in after the check.
  if (code === 'ENXIO') return notRegular('a socket');
  return { ok: false, missing: false, problem: `cannot be read (${code ?? (error as Error).message})` };
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0
    ? `${bytes / 1024 / 1024} MiB`
    : `${bytes} bytes`;
}
