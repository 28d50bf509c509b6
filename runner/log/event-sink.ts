/**
 * Where events go: the `--events` file (appended, one JSON object a line) and any in-process
 * subscriber. Writes are synchronous so that the order on disk is the order of events and a
 * crash of the arbiter loses nothing it already reported.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { EVENT_PROTOCOL_VERSION, type ArbiterEvent, type EventBody } from '../protocol/events';

export class EventSink {
  private fd: number | undefined;
  private readonly subscribers = new Set<(event: ArbiterEvent) => void>();

  constructor(private readonly file?: string) {
    if (file) this.fd = openSync(file, 'a');
  }

  emit(body: EventBody): ArbiterEvent {
    const event = { v: EVENT_PROTOCOL_VERSION, ts: Date.now(), ...body };
    if (this.fd !== undefined) writeSync(this.fd, `${JSON.stringify(event)}\n`);
    for (const subscriber of this.subscribers) subscriber(event);
    return event;
  }

  subscribe(subscriber: (event: ArbiterEvent) => void): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** Closes and opens the file again, for log rotation (USR1). */
  reopen(): void {
    if (!this.file || this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = openSync(this.file, 'a');
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
