import { matches, type LifecycleEvent } from './lifecycle-event';
import { nowNs } from '../common/time';

/** What a cursor reads of the bus: its bounded history of events with contiguous ids. */
export interface EventHistory {
  readonly lastId: number;
  readonly oldestId: number;
  readonly historyLimit: number;
  /** The held event with this id, if still in history. */
  get(id: number): LifecycleEvent | undefined;
}

export interface CursorOptions {
  /** Only this container's events (and service-wide ones); empty = every managed container. */
  containerId?: string;
  /** Deliver the held events after this id first; undefined = only events published from now on. */
  resumeAfterId?: number;
}

/**
 * One subscriber's position in the bus history. It holds no events of its own (memory O(1)); it reads
 * the shared bounded history at its own pace. When the bus evicts an event this reader had not read,
 * the reader counts it (when it matches its filter) and, before its next event, is handed one
 * `dropped` event saying how many it lost and which ids, so a loss is never silent.
 */
export class LifecycleCursor {
  private next: number;
  private droppedCount = 0;
  /** True when droppedCount is an upper bound (ids evicted before this reader existed, filter unknown). */
  private droppedApprox = false;
  private gapFirst = 0;
  private gapLast = 0;
  /** Every pending waitForEvent(): all are woken together, none is ever left behind. */
  private wakers: Array<() => void> = [];
  private closed = false;
  private resolveClosed!: () => void;
  /** Settles when the cursor is closed (a writer blocked on its client's flow control stops waiting). */
  readonly whenClosed = new Promise<void>((resolve) => (this.resolveClosed = resolve));
  private readonly closing = new AbortController();
  /** Aborted when the cursor is closed (the same moment as whenClosed, for waits that must not pile up reactions). */
  readonly signal = this.closing.signal;
  /** Total events this reader lost (for tests and logs). */
  droppedTotal = 0;

  constructor(
    private readonly bus: EventHistory,
    private readonly options: CursorOptions,
    private readonly onClose: () => void,
  ) {
    if (options.resumeAfterId === undefined) {
      this.next = bus.lastId + 1;
    } else {
      this.next = options.resumeAfterId + 1;
      if (this.next < bus.oldestId) {
        this.noteGap(this.next, bus.oldestId - 1, bus.oldestId - this.next, !!options.containerId);
        this.next = bus.oldestId;
      }
    }
  }

  get containerId(): string | undefined {
    return this.options.containerId || undefined;
  }

  /** Id of the next event this reader will consider. */
  get position(): number {
    return this.next;
  }

  /** The next event for this reader (a `dropped` notice first after a loss), or undefined for none yet. */
  read(): LifecycleEvent | undefined {
    if (this.droppedCount > 0) return this.takeDropped();
    while (this.next <= this.bus.lastId) {
      const e = this.bus.get(this.next++);
      if (e && matches(e, this.containerId)) return e;
    }
    return undefined;
  }

  /** Resolves when an event was published (or the cursor closed); any number may wait at once. */
  waitForEvent(): Promise<void> {
    if (this.closed || this.droppedCount > 0 || this.next <= this.bus.lastId) return Promise.resolve();
    return new Promise<void>((resolve) => this.wakers.push(resolve));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    this.resolveClosed();
    this.closing.abort();
    this.notify();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Called by the bus on publish. */
  notify(): void {
    const wakers = this.wakers;
    this.wakers = [];
    for (const w of wakers) w();
  }

  /** Called by the bus when `e` leaves history. */
  evicted(e: LifecycleEvent): void {
    if (e.id < this.next) return; // already read
    if (matches(e, this.containerId)) this.noteGap(e.id, e.id, 1, false);
    this.next = e.id + 1;
  }

  private noteGap(first: number, last: number, count: number, approx: boolean): void {
    if (this.droppedCount === 0) this.gapFirst = first;
    this.gapLast = last;
    this.droppedCount += count;
    this.droppedTotal += count;
    this.droppedApprox ||= approx;
  }

  private takeDropped(): LifecycleEvent {
    const n = this.droppedCount;
    const e: LifecycleEvent = {
      // The id of the last lost event: ids a reader sees stay strictly increasing.
      id: this.gapLast,
      containerId: this.containerId ?? '',
      type: 'dropped',
      status: '',
      timestampNs: nowNs(),
      source: 'service',
      dropped: n,
      message:
        `${this.droppedApprox ? 'up to ' : ''}${n} event(s) with ids ${this.gapFirst}..${this.gapLast} were dropped: ` +
        `this subscriber fell behind the bus history (${this.bus.historyLimit} events)` +
        (this.droppedApprox ? '; some of those ids may not have matched the container filter' : ''),
    };
    this.droppedCount = 0;
    this.droppedApprox = false;
    return e;
  }
}
