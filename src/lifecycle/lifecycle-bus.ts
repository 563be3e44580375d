import { Inject, Injectable, Optional } from '@nestjs/common';
import { EXEC_METRICS } from '../common/tokens';
import type { LifecycleCounts } from '../common/reporting';
import { matches, type LifecycleEvent, type LifecycleEventType, type NewLifecycleEvent } from './lifecycle-event';
import { LifecycleCursor, type CursorOptions, type EventHistory } from './lifecycle-cursor';
import { TransitionDedupe } from './transition-dedupe';
import { nowNs } from '../common/time';
import { BoundedMap } from '../common/bounded';

export type LifecycleListener = (event: LifecycleEvent) => void;

export interface LifecycleSubscription {
  unsubscribe(): void;
}

/** Events kept for resuming and for slow subscribers; the one bound on how far behind a reader may be. */
export const DEFAULT_HISTORY = 4096;

/**
 * In-process pub/sub of lifecycle events with ids. Every published event goes into a bounded history
 * (a ring, ids contiguous); a subscriber is a cursor into that history, not a queue: publishing never
 * waits for anyone, a slow reader costs one position, and a reader that falls behind the history's
 * oldest event is told how many of its events were dropped. Reports of one transition by two sources
 * are published once (TransitionDedupe).
 */
@Injectable()
export class LifecycleBus implements EventHistory {
  /** Settable before the first publish (tests use a small one). */
  historyLimit = DEFAULT_HISTORY;
  private nextId = 1;
  private ring: (LifecycleEvent | undefined)[] = [];
  /** Id of the oldest event still held. */
  private firstId = 1;
  private readonly cursors = new Set<LifecycleCursor>();
  private readonly listeners = new Set<{ containerId?: string; fn: LifecycleListener }>();
  readonly dedupe = new TransitionDedupe();
  /** Session of each container seen, to name it on events whose reporter did not (the newest 10,000). */
  private readonly sessionOf = new BoundedMap<string, string>(10_000);
  /** Published, deduplicated and dropped counts (metrics on). */
  private readonly counts?: LifecycleCounts['lifecycle'];

  constructor(@Optional() @Inject(EXEC_METRICS) metrics?: LifecycleCounts | null) {
    this.counts = metrics?.lifecycle;
  }

  /** Publishes a transition; returns it, or undefined when it repeated one already published. */
  publish(input: NewLifecycleEvent): LifecycleEvent | undefined {
    const source = input.source ?? 'executor';
    if (this.dedupe.isDuplicate({ ...input, source })) {
      if (this.counts) this.counts.deduplicated++;
      return undefined;
    }
    if (this.counts) this.counts.published++;
    const sessionId = input.sessionId || (input.containerId ? this.sessionOf.get(input.containerId) : undefined);
    if (input.containerId && sessionId) this.rememberSession(input.containerId, sessionId, input.type);
    const event: LifecycleEvent = {
      ...input,
      sessionId: sessionId || undefined,
      source,
      id: this.nextId++,
      timestampNs: input.timestampNs ?? nowNs(),
    };
    this.store(event);
    for (const c of this.cursors) c.notify();
    for (const l of this.listeners) {
      if (!matches(event, l.containerId)) continue;
      try {
        l.fn(event);
      } catch {
        this.listeners.delete(l); // a broken listener never stops the bus
      }
    }
    return event;
  }

  get lastId(): number {
    return this.nextId - 1;
  }

  get oldestId(): number {
    return this.firstId;
  }

  /** The held event with this id, if still in history. */
  get(id: number): LifecycleEvent | undefined {
    if (id < this.firstId || id >= this.nextId) return undefined;
    return this.ring[id % this.historyLimit];
  }

  /**
   * A reader of the events after `resumeAfterId` (or only new ones without it) matching the filter.
   * Close it when done. Throws RangeError for a resume id this process never issued.
   */
  open(options: CursorOptions = {}): LifecycleCursor {
    if (options.resumeAfterId !== undefined && options.resumeAfterId > this.lastId) {
      throw new RangeError(`resume id ${options.resumeAfterId} is newer than the newest event ${this.lastId} (ids restart when the service restarts)`);
    }
    const cursor = new LifecycleCursor(this, options, () => this.cursors.delete(cursor));
    this.cursors.add(cursor);
    return cursor;
  }

  get openCursors(): number {
    return this.cursors.size;
  }

  /** Synchronous listener (in-process consumers that only enqueue, e.g. the resource sampler). */
  subscribe(fn: LifecycleListener, containerId?: string): LifecycleSubscription {
    const entry = { containerId: containerId || undefined, fn };
    this.listeners.add(entry);
    return { unsubscribe: () => this.listeners.delete(entry) };
  }

  private rememberSession(containerId: string, sessionId: string, type: LifecycleEventType): void {
    if (type === 'unregistered') {
      this.sessionOf.delete(containerId);
      return;
    }
    this.sessionOf.set(containerId, sessionId);
  }

  private store(event: LifecycleEvent): void {
    const limit = this.historyLimit;
    if (this.ring.length !== limit) this.ring.length = limit;
    if (event.id - this.firstId >= limit) {
      // The oldest event leaves history: readers that had not read it lose it, and are told.
      const evicted = this.ring[this.firstId % limit]!;
      for (const c of this.cursors) {
        const before = c.droppedTotal;
        c.evicted(evicted);
        if (this.counts) this.counts.dropped += c.droppedTotal - before;
      }
      this.firstId++;
    }
    this.ring[event.id % limit] = event;
  }
}
