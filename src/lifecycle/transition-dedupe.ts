import type { LifecycleSource, NewLifecycleEvent } from './lifecycle-event';

/** How long after one source's report another source's report of the same transition may arrive. */
export const DEDUPE_WINDOW_MS = 10_000;
const MAX_RECORDS_PER_CONTAINER = 64;

interface Report {
  type: string;
  source: LifecycleSource;
  atMs: number;
  /** Sources whose report has already been matched to (merged into) this one. */
  matched: Set<LifecycleSource>;
}

/**
 * The dedupe rule. A report of transition T (for `killed`: with the same signal and exec) for container C from source S is the SAME transition as an
 * earlier published report of T for C when that earlier report came from a different source, is at
 * most DEDUPE_WINDOW_MS old, and has not yet been matched by a report from S. Otherwise it is a new
 * transition. So: each source's reports are never merged with each other (a container started twice by
 * the executor is two `started`), and the first source to report a transition wins (its event is
 * published at once, the later report is dropped). Types only one source reports pass straight through.
 * Memory is bounded: reports older than the window are forgotten, and a container keeps its newest
 * MAX_RECORDS_PER_CONTAINER (64) reports, so a burst of more within the window may let a repeat through.
 */
export class TransitionDedupe {
  private readonly byContainer = new Map<string, Report[]>();
  private checks = 0;

  constructor(private readonly windowMs = DEDUPE_WINDOW_MS) {}

  /** True when `e` repeats a transition already published; otherwise records it and returns false. */
  isDuplicate(e: Pick<NewLifecycleEvent, 'containerId' | 'type' | 'source' | 'signal' | 'execId'>, nowMs = Date.now()): boolean {
    if (!e.containerId) return false;
    const source = e.source ?? 'executor';
    // A kill is the same transition only with the same signal to the same process.
    const type = `${e.type}${e.signal ? `:${e.signal}` : ''}${e.execId ? `@${e.execId}` : ''}`;
    if (++this.checks % 256 === 0) this.prune(nowMs);
    const reports = (this.byContainer.get(e.containerId) ?? []).filter((r) => nowMs - r.atMs <= this.windowMs);
    const match = reports.find((r) => r.type === type && r.source !== source && !r.matched.has(source));
    if (match) {
      match.matched.add(source);
      this.byContainer.set(e.containerId, reports);
      return true;
    }
    reports.push({ type, source, atMs: nowMs, matched: new Set() });
    if (reports.length > MAX_RECORDS_PER_CONTAINER) reports.splice(0, reports.length - MAX_RECORDS_PER_CONTAINER);
    this.byContainer.set(e.containerId, reports);
    return false;
  }

  get trackedContainers(): number {
    return this.byContainer.size;
  }

  prune(nowMs = Date.now()): void {
    for (const [id, reports] of this.byContainer) {
      if (reports.every((r) => nowMs - r.atMs > this.windowMs)) this.byContainer.delete(id);
    }
  }
}
