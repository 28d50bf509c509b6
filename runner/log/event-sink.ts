/**
 * Where events go: the `--events` file (appended, one JSON object a line) and any in-process
 * subscriber. Writes are synchronous so that the order on disk is the order of events and a
 * crash of the arbiter loses nothing it already reported.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { EVENT_PROTOCOL_VERSION, type ArbiterEvent, type EventBody } from '../protocol/events';

export class EventSink {
  private fd: number | undefined;
  private inherited = false;
  private readonly subscribers = new Set<(event: ArbiterEvent) => void>();

  constructor(private readonly file?: string) {
    if (!file) return;
    // An inherited pipe (how the editor and tests follow the stream): write to it as it is,
    // since Linux cannot open() a socketpair through /dev/fd.
    const inherited = /^\/dev\/fd\/(\d+)$/.exec(file);
    this.fd = inherited ? Number(inherited[1]) : openSync(file, 'a');
    this.inherited = inherited !== null;
  }

  emit(body: EventBody): ArbiterEvent {
    const event = { v: EVENT_PROTOCOL_VERSION, ts: Date.now(), ...body };
    if (this.fd !== undefined) this.write(`${JSON.stringify(event)}\n`);
    for (const subscriber of this.subscribers) subscriber(event);
    return event;
  }

  private write(line: string): void {
    try {
      writeSync(this.fd!, line);
    } catch (error) {
      // The follower went away (EPIPE) or the disk is full: the server must go on regardless.
      process.stderr.write(`arbiter: stopped writing events to ${this.file}: ${(error as Error).message}\n`);
      this.fd = undefined;
    }
  }

  subscribe(subscriber: (event: ArbiterEvent) => void): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** Closes and opens the file again, for log rotation (USR1). */
  reopen(): void {
    if (!this.file || this.fd === undefined || this.inherited) return;
    closeSync(this.fd);
    this.fd = openSync(this.file, 'a');
  }

  close(): void {
    if (this.fd !== undefined && !this.inherited) closeSync(this.fd);
    this.fd = undefined;
  }
}
