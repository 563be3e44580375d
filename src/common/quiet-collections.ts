import { getHeapStatistics } from 'node:v8';
import { collector, type Collect } from './collector';

export interface QuietCollectionOptions {
  /** How often the process looks whether it has gone quiet. */
  intervalMs?: number;
  /** Buffers' memory (V8's external memory) above the rule's floor that is worth a full collection. */
  bytes?: number;
  /** What collects (a test's spy); by default the one enableCollector() obtained. */
  collect?: Collect;
}

/** Two looks whose external memory differs by less than this are quiet (a health check's few Buffers). */
const QUIET_DELTA_BYTES = 1024 * 1024;

/**
 * The decision, look by look: `look(external)` says whether to run a full collection now. Yes when the
 * external memory is `bytes` above the floor and moved less than QUIET_DELTA_BYTES since the previous
 * look. The floor is the lowest external memory seen since this rule's last yes (or its start; V8's own
 * collections are not told to it); after a yes the next look starts it again, so memory that is live
 * costs one collection, not one per look, and each further one needs `bytes` more.
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
 * Runs a full collection when QuietCollectionRule says so, looking every `intervalMs` (2 s) at V8's
 * external memory: the Buffers of a burst of output that died in the old generation are freed once the
 * process is quiet, where V8, collecting only as it allocates, would keep them until the next burst
 * (docs/BENCHMARKS.md "The allocator"). At most one collection per `bytes` (16 MiB) of Buffers made. Does
 * nothing without a collector. Returns what stops it.
 */
export function startQuietCollections({ intervalMs = 2000, bytes = 16 * 1024 * 1024, collect = collector() }: QuietCollectionOptions = {}): () => void {
  if (!collect) return () => undefined;
  const external = () => getHeapStatistics().external_memory;
  const rule = new QuietCollectionRule(bytes, external());
  const timer = setInterval(() => {
    if (rule.look(external())) collect({ type: 'major', execution: 'sync' });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
