import { Injectable } from '@nestjs/common';
import type { LifecycleEvent, NewLifecycleEvent } from './lifecycle-event';

export type LifecycleListener = (event: LifecycleEvent) => void;

export interface LifecycleSubscription {
  unsubscribe(): void;
}

const HISTORY = 4096;

/**
 * In-process pub/sub of lifecycle events. Publishing never blocks: listeners are called
 * synchronously and must only enqueue. Keeps a bounded history so that a subscriber can resume
 * after an id it saw.
 */
@Injectable()
export class LifecycleBus {
  private nextId = 1;
  private readonly history: LifecycleEvent[] = [];
  private readonly listeners = new Set<{ containerId?: string; fn: LifecycleListener }>();

  publish(input: NewLifecycleEvent): LifecycleEvent {
    const event: LifecycleEvent = {
      ...input,
      id: this.nextId++,
      timestampNs: input.timestampNs ?? BigInt(Date.now()) * 1_000_000n,
    };
    this.history.push(event);
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
    for (const l of this.listeners) {
      if (l.containerId && l.containerId !== event.containerId) continue;
      try {
        l.fn(event);
      } catch {
        this.listeners.delete(l); // a broken subscriber never stops the bus
      }
    }
    return event;
  }

  /** Events after `afterId` still in history, oldest first. */
  since(afterId: number, containerId?: string): LifecycleEvent[] {
    return this.history.filter((e) => e.id > afterId && (!containerId || e.containerId === containerId));
  }

  get lastId(): number {
    return this.nextId - 1;
  }

  subscribe(fn: LifecycleListener, containerId?: string): LifecycleSubscription {
    const entry = { containerId: containerId || undefined, fn };
    this.listeners.add(entry);
    return { unsubscribe: () => this.listeners.delete(entry) };
  }
}
