/**
 * Where events go: every `--events` target (files appended, FIFOs, terminals, or an inherited
 * pipe given as /dev/fd/N), one JSON object a line, and any in-process subscriber. Each event
 * is serialized once and handed to every target in order; no target can block the arbiter or
 * hold it back (runner/log/event-target.ts says what happens to one that falls behind).
 */
import { EVENT_PROTOCOL_VERSION, type ArbiterEvent, type EventBody } from '../protocol/events';
import { EventTarget, type Notify } from './event-target';

export { EventTargetError } from './open-event-writer';

export class EventSink {
  private readonly targets: EventTarget[];
  private readonly subscribers = new Set<(event: ArbiterEvent) => void>();

  /**
   * Opens every target now, so a path that cannot be written fails before anything starts
   * (an EventTargetError, one line naming it); `notify` tells the terminal about a target
   * that falls behind, fails or resumes later.
   */
  constructor(paths: readonly string[] = [], notify: Notify = () => undefined) {
    this.targets = [];
    try {
      for (const path of paths) this.targets.push(new EventTarget(path, notify));
    } catch (error) {
      void this.close();
      throw error;
    }
  }

  emit(body: EventBody): ArbiterEvent {
    const event = { v: EVENT_PROTOCOL_VERSION, ts: Date.now(), ...body };
    const line = `${JSON.stringify(event)}\n`;
    for (const target of this.targets) target.write(line, event.ts);
    for (const subscriber of this.subscribers) subscriber(event);
    return event;
  }

  subscribe(subscriber: (event: ArbiterEvent) => void): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** SIGUSR1: files are opened again (log rotation), dropped targets resume where they can. */
  reopen(): void {
    for (const target of this.targets) target.reopen();
  }

  /** Resolves once every follower got the last events (or was given up on). */
  async close(): Promise<void> {
    await Promise.all(this.targets.map((target) => target.close()));
  }
}
