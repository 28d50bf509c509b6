/**
 * Events appended to a regular file (or a device that never blocks, like /dev/null), one
 * synchronous write each: the order on disk is the order of events, and a crash of the
 * arbiter loses nothing it already reported. A file never stalls the way a pipe does, so a
 * synchronous write is safe here. A write that fails part-way (a full filesystem) is cut back
 * to the last whole line, so the file never holds half an event.
 */
import { closeSync, fstatSync, ftruncateSync, writeSync } from 'node:fs';

export class EventFileWriter {
  constructor(
    private readonly fd: number,
    /** Whether the arbiter opened the fd (and closes it), rather than inherited it. */
    private readonly owned: boolean,
  ) {}

  /** Appends the line; says why it could not (nothing of it is left in the file then). */
  write(line: string): string | undefined {
    let written = 0;
    try {
      written = writeSync(this.fd, line);
      const length = Buffer.byteLength(line);
      if (written < length) {
        const data = Buffer.from(line);
        while (written < length) written += writeSync(this.fd, data, written);
      }
      return undefined;
    } catch (error) {
      if (written > 0) this.cutBack(written);
      return (error as Error).message;
    }
  }

  /** Takes the `bytes` of a line that was only partly written off the end of the file. */
  private cutBack(bytes: number): void {
    try {
      ftruncateSync(this.fd, fstatSync(this.fd).size - bytes);
    } catch {
      // Not a file that can be truncated (a device): there is no line to mend.
    }
  }

  close(): Promise<void> {
    if (this.owned) closeSync(this.fd);
    return Promise.resolve();
  }
}
