/**
 * One `--events` target and what happens when it cannot keep up. A target that falls too far
 * behind, whose reader goes away or whose disk is full is not waited for: its events are
 * dropped and counted, with one notice on the terminal. When it can take events again — its
 * reader caught up, or SIGUSR1 reopened it — the first line it gets is an `events.gap` event
 * saying how many were dropped, since when and why, so a follower knows what it missed.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { EVENT_PROTOCOL_VERSION, type EventOf } from '../protocol/events';
import { EventStreamWriter } from './event-stream-writer';
import { EventTargetError, inheritedFd, openEventWriter, type EventWriter } from './open-event-writer';

/** A line for the terminal about a target (what the terminal shows, the arbiter's voice). */
export type Notify = (level: 'info' | 'warn', message: string) => void;

type Gap = { reason: string; since: number | undefined; dropped: number };

export class EventTarget {
  private writer: EventWriter | undefined;
  private gap: Gap | undefined;
  private readonly inherited: boolean;

  /** Opens `path` now; throws an EventTargetError that names it when it cannot. */
  constructor(
    readonly path: string,
    private readonly notify: Notify,
  ) {
    this.inherited = inheritedFd(path) !== undefined;
    this.writer = this.open();
  }

  /** Writes one event line (of an event that happened at `ts`), or counts it as dropped. */
  write(line: string, ts: number): void {
    if (this.gap) {
      this.gap.since ??= ts;
      this.gap.dropped++;
      return;
    }
    const failure = this.writer?.write(line);
    if (failure === undefined) return;
    this.startGap(failure);
    this.gap!.since = ts;
    this.gap!.dropped = 1;
  }

  /**
   * SIGUSR1: a file is closed and opened again (log rotation; its folder is made again if it
   * was removed), a FIFO whose reader went away is opened again, a stream that was dropped
   * resumes once its reader has caught up. What it cannot do is said in one line.
   */
  reopen(): void {
    const writer = this.writer;
    if (writer instanceof EventStreamWriter) {
      if (writer.caughtUp) return this.resume();
      // Its queue ends in the middle of a line the reader may still read: never cut it.
      if (!writer.isBroken)
        return this.notify('warn', `events to ${this.path}: still ${this.gap?.reason ?? 'behind'}`);
      if (this.inherited)
        return this.notify(
          'warn',
          `events to ${this.path}: ${this.gap?.reason ?? 'gone'}; an fd cannot be reopened`,
        );
    } else if (this.inherited) return this.resume(); // an fd given to it is all there is
    void writer?.close(true);
    this.writer = undefined;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      this.writer = this.open();
    } catch (error) {
      const problem = error instanceof EventTargetError ? error.problem : (error as Error).message;
      const reason = `cannot reopen: ${problem}`;
      this.gap ??= { reason, since: undefined, dropped: 0 };
      return this.notify(
        'warn',
        `events to ${this.path}: ${reason}; events are dropped until a SIGUSR1 that can`,
      );
    }
    this.resume();
  }

  /** Lets the last events reach a reader that still follows; a dropped one is not waited for. */
  close(): Promise<void> {
    const writer = this.writer;
    this.writer = undefined;
    if (writer instanceof EventStreamWriter) return writer.close(this.gap !== undefined);
    return writer?.close() ?? Promise.resolve();
  }

  private open(): EventWriter {
    return openEventWriter(this.path, {
      onBroken: (reason) => {
        if (!this.gap) this.startGap(reason);
      },
      onDrained: () => this.resume(),
    });
  }

  /** Events are dropped from now on, said once. */
  private startGap(reason: string): void {
    this.gap = { reason, since: undefined, dropped: 0 };
    const writer = this.writer;
    const then = 'then an events.gap event says how many';
    let notice: string;
    if (!(writer instanceof EventStreamWriter))
      notice = `events to ${this.path} stopped: ${reason}; the file ends with the last whole event, and events are dropped until SIGUSR1, ${then}`;
    else if (!writer.isBroken)
      notice = `events to ${this.path}: ${reason}; events are dropped until it has read what waits (or SIGUSR1), ${then}`;
    else if (this.inherited) notice = `events to ${this.path}: ${reason}; its events are dropped from now on`;
    else
      notice = `events to ${this.path}: ${reason}; events are dropped until SIGUSR1 opens it again, ${then}`;
    this.notify('warn', notice);
  }

  /** Ends a gap: the events.gap line goes first, then the stream goes on. */
  private resume(): void {
    const gap = this.gap;
    if (!gap || !this.writer) return;
    if (gap.since === undefined) {
      this.gap = undefined;
      return;
    }
    const event: EventOf<'events.gap'> = {
      v: EVENT_PROTOCOL_VERSION,
      ts: Date.now(),
      type: 'events.gap',
      dropped: gap.dropped,
      since: gap.since,
      reason: gap.reason,
    };
    const failure = this.writer.write(`${JSON.stringify(event)}\n`);
    if (failure !== undefined) return this.notify('warn', `events to ${this.path}: still ${failure}`);
    this.gap = undefined;
    const since = new Date(gap.since).toISOString().slice(11, 23);
    this.notify('info', `events to ${this.path} resumed: ${gap.dropped} event(s) dropped since ${since}`);
  }
}
