/**
 * Splits a stream of text chunks into lines, in time linear in the input: each chunk is
 * searched once for newlines and a partial line waits as a list of pieces, never re-joined
 * and re-split as chunks arrive. Lines have a length limit, so a peer that never sends a
 * newline costs at most that much memory.
 */

/** The longest line kept whole by default: a boot error with a long stack fits many times over. */
export const MAX_LINE_LENGTH = 1024 * 1024;

export type LineSplitterOptions = {
  /** The longest line passed on whole, in characters. */
  maxLength?: number;
  /**
   * What a longer line means. Without it, the line is passed on in pieces of `maxLength`
   * (output, where nothing is lost by a break); with it, the line is discarded up to its
   * newline and this is called once, as soon as the line passes the limit (a protocol, where
   * a piece of a message means nothing).
   */
  onTooLong?: () => void;
};

export class LineSplitter {
  private readonly maxLength: number;
  private readonly onTooLong: (() => void) | undefined;
  /** The line so far, when it spans chunks. */
  private pieces: string[] = [];
  private pendingLength = 0;
  /** Inside a line that was too long: everything up to its newline is dropped. */
  private discarding = false;

  constructor(
    private readonly onLine: (line: string) => void,
    options: LineSplitterOptions = {},
  ) {
    this.maxLength = options.maxLength ?? MAX_LINE_LENGTH;
    this.onTooLong = options.onTooLong;
  }

  push(chunk: string): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf('\n', start);
      if (newline === -1) break;
      this.endLine(chunk.slice(start, newline));
      start = newline + 1;
    }
    if (start < chunk.length) this.extend(start === 0 ? chunk : chunk.slice(start));
  }

  /** Emits what is left (a last line with no newline). */
  flush(): void {
    if (this.pendingLength > 0 && !this.discarding) this.onLine(this.pieces.join(''));
    this.reset();
  }

  /** `tail` ends the line that the pending pieces began. */
  private endLine(tail: string): void {
    if (this.discarding) return this.reset();
    const line = this.pendingLength === 0 ? tail : this.pieces.join('') + tail;
    this.reset();
    if (line.length <= this.maxLength) return this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    if (this.onTooLong) return this.onTooLong();
    this.emitInPieces(line);
  }

  /** A partial line grows by `text`. */
  private extend(text: string): void {
    if (this.discarding) return;
    this.pieces.push(text);
    this.pendingLength += text.length;
    if (this.pendingLength <= this.maxLength) return;
    if (this.onTooLong) {
      this.reset();
      this.discarding = true;
      return this.onTooLong();
    }
    // Whole pieces go now; the last one (never empty) waits, as its newline may be next.
    const joined = this.pieces.join('');
    const whole = joined.length - (joined.length % this.maxLength || this.maxLength);
    this.emitInPieces(joined.slice(0, whole));
    this.reset();
    this.extend(joined.slice(whole));
  }

  private emitInPieces(text: string): void {
    for (let at = 0; at < text.length; at += this.maxLength) this.onLine(text.slice(at, at + this.maxLength));
  }

  private reset(): void {
    this.pieces = [];
    this.pendingLength = 0;
    this.discarding = false;
  }
}
