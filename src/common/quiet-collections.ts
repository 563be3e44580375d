import { getHeapStatistics } from 'node:v8';
import { collector } from './young-collections';

export interface QuietCollectionOptions {
  /** How often the process looks whether it has gone quiet. */
  intervalMs?: number;
  /** Buffers' memory (V8's external memory) above what the last full collection left that is worth one. */
  bytes?: number;
}

/** Two looks whose external memory differs by less than this are quiet (a health check's few Buffers). */
export const QUIET_DELTA_BYTES = 1024 * 1024;

/**
 * The decision, look by look: `look(external)` says whether to run a full collection now. Yes when the
 * external memory is `bytes` above the floor (what the last collection left, read at the first look after
 * it; the lowest seen since) and moved less than QUIET_DELTA_BYTES since the previous look. A yes starts
 * over: the next look is the new floor, so memory that is live costs one collection, not one per look.
 */
export class QuietCollectionRule {
  private floor?: number;
  private last = Number.NaN;

  constructor(
    private readonly bytes: number,
    start: number,
  ) {
    this.floor = start;
  }

  look(external: number): boolean {
    this.floor = this.floor === undefined ? external : Math.min(this.floor, external);
    const quiet = Math.abs(external - this.last) < QUIET_DELTA_BYTES;
    if (quiet && external - this.floor >= this.bytes) {
      this.floor = undefined;
      this.last = Number.NaN;
      return true;
    }
    this.last = external;
    return false;
  }
}

/**
 * One full collection once the process has gone quiet after a burst of output. V8 frees a Buffer's memory
 * only when a collection finds its wrapper dead, and a process with nothing to do runs none: the Buffers
 * of a burst that outlived the young generation (tail windows, chunks replayed from disk to clients) stay
 * in RSS, up to V8's external limit beyond the last full collection, until the next burst
 * (docs/BENCHMARKS.md "The allocator"). Every `intervalMs` this reads V8's external memory and asks
 * QuietCollectionRule; so a collection costs a burst's end, never a steady stream's every few seconds.
 * Needs enableYoungCollections() first (the collector); without one it does nothing. Returns what stops it.
 */
export function startQuietCollections({ intervalMs = 2000, bytes = 16 * 1024 * 1024 }: QuietCollectionOptions = {}): () => void {
  const collect = collector();
  if (!collect) return () => undefined;
  const external = () => getHeapStatistics().external_memory;
  const rule = new QuietCollectionRule(bytes, external());
  const timer = setInterval(() => {
    if (rule.look(external())) collect({ type: 'major', execution: 'sync' });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
