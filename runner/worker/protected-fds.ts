/**
 * The fds the worker runtime was given — the control channel (3) and the listening sockets
 * (4, 5, ...) — are the runtime's, not the app's: under plain node those numbers hold nothing
 * of the app's. An app or library that closes them through fs (a "close every inherited fd"
 * step, a stray closeSync(3)) is refused, once said: the next accepted connection would get
 * the number, and the runtime would speak its protocol to a client.
 */
import fs from 'node:fs';

export function protectFds(fds: readonly number[], notice: (message: string) => void): void {
  const protectedFds = new Set(fds);
  const told = new Set<number>();
  const refuse = (fd: unknown): boolean => {
    if (typeof fd !== 'number' || !protectedFds.has(fd)) return false;
    if (!told.has(fd)) {
      told.add(fd);
      const what = fd === 3 ? "the arbiter's control channel" : 'a listening socket of the arbiter';
      notice(`the app closed fd ${fd}, ${what}: left open (the worker needs it)`);
    }
    return true;
  };
  const { close, closeSync } = fs;
  fs.closeSync = (fd: number) => {
    if (!refuse(fd)) closeSync(fd);
  };
  fs.close = ((fd: number, callback?: (error: NodeJS.ErrnoException | null) => void) => {
    if (!refuse(fd)) return close(fd, callback);
    if (callback) process.nextTick(callback, null);
  }) as typeof fs.close;
}
