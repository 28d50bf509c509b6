/**
 * Turns a stream of file events into batches: a save, an editor's write-to-temp-then-rename,
 * a `git checkout` of hundreds of files or a formatter touching thirty each become one batch.
 *
 * A batch closes once the tree has been quiet for a while: `quietMs` while it holds one file
 * (a save, which should go live at once), `burstQuietMs` once it holds more (a tool writing
 * many files may pause between them). `maxWaitMs` after its first event it closes anyway, so
 * a tool that never stops writing cannot hold reloads off forever.
 */
export type BatchOptions = { quietMs: number; burstQuietMs: number; maxWaitMs: number };

export const DEFAULT_BATCH: BatchOptions = { quietMs: 20, burstQuietMs: 60, maxWaitMs: 2000 };

export class ChangeBatcher {
  private files = new Set<string>();
  /** When the open batch's first file changed (epoch ms). */
  private openedAt = 0;
  private quiet: NodeJS.Timeout | undefined;
  private longest: NodeJS.Timeout | undefined;
  private closing: NodeJS.Immediate | undefined;

  constructor(
    private readonly flush: (files: string[], openedAt: number) => void,
    private readonly options: BatchOptions = DEFAULT_BATCH,
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
    clearImmediate(this.closing);
    this.closing = undefined;
    const quietMs = this.files.size > 1 ? this.options.burstQuietMs : this.options.quietMs;
    // When the quiet timer fires, events may already be waiting: the arbiter's loop may just
    // have been busy for longer than the quiet period. Timers run before I/O in Node's loop, so
    // the batch closes one turn later (setImmediate runs after I/O), once those were counted.
    this.quiet = setTimeout(() => (this.closing = setImmediate(() => this.close())), quietMs);
  }

  private close(): void {
    clearTimeout(this.quiet);
    clearTimeout(this.longest);
    clearImmediate(this.closing);
    this.quiet = this.longest = this.closing = undefined;
    const files = [...this.files];
    this.files = new Set();
    if (files.length > 0) this.flush(files, this.openedAt);
  }

  dispose(): void {
    clearTimeout(this.quiet);
    clearTimeout(this.longest);
    clearImmediate(this.closing);
    this.files.clear();
  }
}
