/**
 * The arbiter's side of its watcher thread: starts it, checks what it reports, and starts it
 * again (with backoff) if it ever dies, so that a watcher bug costs reloads for a moment rather
 * than for the rest of the session.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Backoff } from '../util/backoff';
import { checkWatcherMessage, type WatcherStart } from '../protocol/watcher';

/** The bundled thread entry, next to the CLI bundle. */
const WATCHER_ENTRY = join(__dirname, 'watcher.js');

/**
 * The thread's young generation, in MB. The walk of a big tree makes tens of MB of short-lived
 * objects; V8's default lets the young generation grow to 48 MB and keep it. The watcher is not
 * throughput-bound, so scavenging more often costs nothing that shows.
 */
const YOUNG_GENERATION_MB = 1;

export type WatcherHandleOptions = WatcherStart & {
  /** `openedAt` (epoch ms): when the first of the files changed. */
  onBatch: (files: string[], openedAt: number) => void;
  onReady: (counts: { files: number; folders: number; polled: number; durationMs: number }) => void;
  onWarning: (message: string) => void;
  /** A file whose changes the watcher leaves out from now on, and why. */
  onIgnored: (file: string, reason: string) => void;
};

export class WatcherHandle {
  private thread: Worker | undefined;
  private closed = false;
  private backoff = Backoff.start({ baseMs: 1000, maxMs: 30_000 });
  private restart: NodeJS.Timeout | undefined;

  constructor(private readonly options: WatcherHandleOptions) {
    this.start();
  }

  private start(): void {
    const { onBatch, onReady, onWarning, onIgnored, ...start } = this.options;
    const thread = new Worker(WATCHER_ENTRY, {
      workerData: start,
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
      // Its output is the arbiter's; it has no stdin.
      stdin: false,
    });
    this.thread = thread;
    thread.unref(); // the arbiter decides when it exits, never its watcher
    thread.on('message', (raw: unknown) => {
      const checked = checkWatcherMessage(raw);
      if (!checked.ok) return onWarning(`watcher: malformed message skipped: ${checked.error}`);
      const message = checked.value;
      switch (message.type) {
        case 'batch':
          return onBatch(message.files, message.openedAt);
        case 'ready':
          this.backoff = this.backoff.succeed();
          return onReady(message);
        case 'error':
          return onWarning(`watcher: ${message.message}`);
        case 'ignored':
          return onIgnored(message.file, message.reason);
      }
    });
    thread.on('error', (error) => onWarning(`watcher thread failed: ${error.stack ?? error.message}`));
    thread.on('exit', () => {
      if (this.closed || this.thread !== thread) return;
      this.backoff = this.backoff.fail();
      const delay = this.backoff.delayMs;
      onWarning(`the watcher stopped; starting it again in ${delay} ms (changes until then are missed)`);
      this.restart = setTimeout(() => this.start(), delay);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restart);
    await this.thread?.terminate();
  }
}
