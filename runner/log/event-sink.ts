/**
 * Where events go: every `--events` target (files appended, or an inherited pipe given as
 * /dev/fd/N), one JSON object a line, and any in-process subscriber. Writes are synchronous
 * so that the order on disk is the order of events and a crash of the arbiter loses nothing it
 * already reported.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { EVENT_PROTOCOL_VERSION, type ArbiterEvent, type EventBody } from '../protocol/events';

type Target = { path: string; fd: number | undefined; inherited: boolean };

export class EventSink {
  private readonly targets: Target[];
  private readonly subscribers = new Set<(event: ArbiterEvent) => void>();

  /** Opens every target now, so a path that cannot be written fails before anything starts. */
  constructor(paths: readonly string[] = []) {
    this.targets = paths.map((path) => {
      // An inherited pipe (how the editor and tests follow the stream) is written as it is:
      // Linux cannot open() a socketpair through /dev/fd.
      const inherited = /^\/dev\/fd\/(\d+)$/.exec(path);
      return {
        path,
        fd: inherited ? Number(inherited[1]) : openSync(path, 'a'),
        inherited: inherited !== null,
      };
    });
  }

  emit(body: EventBody): ArbiterEvent {
    const event = { v: EVENT_PROTOCOL_VERSION, ts: Date.now(), ...body };
    const line = `${JSON.stringify(event)}\n`;
    for (const target of this.targets) this.write(target, line);
    for (const subscriber of this.subscribers) subscriber(event);
    return event;
  }

  private write(target: Target, line: string): void {
    if (target.fd === undefined) return;
    try {
      writeSync(target.fd, line);
    } catch (error) {
      // The follower went away (EPIPE) or the disk is full: the server must go on regardless.
      process.stderr.write(
        `arbiter: stopped writing events to ${target.path}: ${(error as Error).message}\n`,
      );
      target.fd = undefined;
    }
  }

  subscribe(subscriber: (event: ArbiterEvent) => void): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** Closes and opens the files again, for log rotation (USR1). */
  reopen(): void {
    for (const target of this.targets) {
      if (target.inherited || target.fd === undefined) continue;
      closeSync(target.fd);
      target.fd = openSync(target.path, 'a');
    }
  }

  close(): void {
    for (const target of this.targets) {
      if (!target.inherited && target.fd !== undefined) closeSync(target.fd);
      target.fd = undefined;
    }
  }
}
