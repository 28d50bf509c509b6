/**
 * Turns a stream of file events into batches: a save, an editor's write-to-temp-then-rename,
 * a `git checkout` of hundreds of files or a formatter touching thirty each become one batch.
 * A batch closes when the tree has been quiet for `quietMs`, or `maxWaitMs` after its first
 * event, so that a tool that never stops writing cannot hold reloads off forever.
 */
export type BatchOptions = { quietMs: number; maxWaitMs: number };

export const DEFAULT_BATCH: BatchOptions = { quietMs: 30, maxWaitMs: 1000 };

export class ChangeBatcher {
  private files = new Set<string>();
  private quiet: NodeJS.Timeout | undefined;
  private longest: NodeJS.Timeout | undefined;

  constructor(
    private readonly flush: (files: string[]) => void,
    private readonly options: BatchOptions = DEFAULT_BATCH,
  ) {}

  add(file: string): void {
    this.files.add(file);
    this.longest ??= setTimeout(() => this.close(), this.options.maxWaitMs);
    clearTimeout(this.quiet);
    this.quiet = setTimeout(() => this.close(), this.options.quietMs);
  }

  private close(): void {
    clearTimeout(this.quiet);
    clearTimeout(this.longest);
    this.quiet = this.longest = undefined;
    const files = [...this.files];
    this.files = new Set();
    if (files.length > 0) this.flush(files);
  }

  dispose(): void {
    clearTimeout(this.quiet);
    clearTimeout(this.longest);
    this.files.clear();
  }
}
