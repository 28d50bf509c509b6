/**
 * Turns a stream of file events into batches: a save, an editor's write-to-temp-then-rename,
 * a `git checkout` of hundreds of files or a formatter touching thirty each become one batch.
 *
 * A batch closes once the tree has been quiet for a while. While it holds one file (a save,
 * which should go live at once) that is `settleMs` — enough for the rest of one editor's save
 * to arrive (an in-place write's truncate, write and close; vim's rename, create and fsync
 * come within a millisecond or two here) — provided the file is then `settled`: there and not
 * empty. A file that is gone or empty at that point is most likely mid-save (renamed away
 * before its new copy is written, truncated before it is written again), and gets the full
 * `quietMs`. Once the batch holds more files, `burstQuietMs` (a tool writing many files may
 * pause between them). `maxWaitMs` after its first event it closes anyway, so a tool that never
 * stops writing cannot hold reloads off forever.
 */
export type BatchOptions = { settleMs: number; quietMs: number; burstQuietMs: number; maxWaitMs: number };

export const DEFAULT_BATCH: BatchOptions = { settleMs: 4, quietMs: 20, burstQuietMs: 60, maxWaitMs: 2000 };

export class ChangeBatcher {
  private files = new Set<string>();
  /** When the open batch's first file changed (epoch ms). */
  private openedAt = 0;
  private quiet: NodeJS.Timeout | undefined;
  /** For a batch of one file: the earlier close, if it looks whole by then. */
  private settle: NodeJS.Timeout | undefined;
  private longest: NodeJS.Timeout | undefined;
  private closing: NodeJS.Immediate | undefined;

  constructor(
    private readonly flush: (files: string[], openedAt: number) => void,
    private readonly options: BatchOptions = DEFAULT_BATCH,
    /** Whether a file looks whole (there, not empty); by default none does, and one waits `quietMs`. */
    private readonly settled: (file: string) => boolean = () => false,
  ) {}

  has(file: string): boolean {
    return this.files.has(file);
  }

  add(file: string): void {
    if (this.files.size === 0) this.openedAt = Date.now();
    this.files.add(file);
    this.longest ??= setTimeout(() => this.close(), this.options.maxWaitMs);
    this.touch();
  }

  /** Activity that belongs to the open batch: its quiet period starts again. */
  touch(): void {
    if (this.files.size === 0) return;
    clearTimeout(this.quiet);
    clearTimeout(this.settle);
    clearImmediate(this.closing);
    this.closing = undefined;
    const { settleMs, quietMs, burstQuietMs } = this.options;
    if (this.files.size > 1) {
      this.quiet = setTimeout(() => this.closeNextTurn(), burstQuietMs);
      return;
    }
    const file = this.files.values().next().value as string;
    this.settle = setTimeout(() => {
      if (this.settled(file)) this.closeNextTurn();
    }, settleMs);
    this.quiet = setTimeout(() => this.closeNextTurn(), quietMs);
  }

  /**
   * When a quiet timer fires, events may already be waiting: the arbiter's loop may just have
   * been busy for longer than the quiet period. Timers run before I/O in Node's loop, so the
   * batch closes one turn later (setImmediate runs after I/O), once those were counted.
   */
  private closeNextTurn(): void {
    this.closing = setImmediate(() => this.close());
  }

  private close(): void {
    clearTimeout(this.quiet);
    clearTimeout(this.settle);
    clearTimeout(this.longest);
    clearImmediate(this.closing);
    this.quiet = this.settle = this.longest = this.closing = undefined;
    const files = [...this.files];
    this.files = new Set();
    if (files.length > 0) this.flush(files, this.openedAt);
  }

  dispose(): void {
    clearTimeout(this.quiet);
    clearTimeout(this.settle);
    clearTimeout(this.longest);
    clearImmediate(this.closing);
    this.files.clear();
  }
}
