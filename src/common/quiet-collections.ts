import { performance } from 'node:perf_hooks';
import { collector, type Collect } from './collector';

export interface QuietCollectionOptions {
  /** How often the process looks whether it has gone quiet. */
  intervalMs?: number;
  /** Buffers' memory (their backing stores: `process.memoryUsage().arrayBuffers`) above the rule's floor that is worth a full collection. */
  bytes?: number;
  /** The event loop's busy share of an interval under which it is quiet (QUIET_UTILIZATION). */
  utilization?: number;
  /** What collects (a test's spy); by default the one enableCollector() obtained. */
  collect?: Collect;
}

/** Two looks whose Buffers' memory differs by less than this are quiet (a health check's few Buffers). */
const QUIET_DELTA_BYTES = 1024 * 1024;
/**
 * An interval whose event loop was busy less than this share of it is quiet: the soak's idle service
 * 1–2 % (with the bench's memory probe in it), its short sessions 20 %, a 10 MB/s stream with its visitors 78 %
 * (docs/BENCHMARKS.md, "The quiet collection").
 */
export const QUIET_UTILIZATION = 0.05;

/** One look: the Buffers' memory now, and the event loop's utilization since the previous look (0–1). */
export interface Look {
  buffers: number;
  utilization: number;
}

/**
 * The decision, look by look: `look()` says whether to run a full collection now. Yes when the Buffers'
 * memory is `bytes` above the floor and the process is quiet: the Buffers moved less than
 * QUIET_DELTA_BYTES since the previous look and the event loop was busy less than `quietUtilization` of
 * the interval. The floor is the lowest Buffers' memory seen since this rule's last yes (or its start);
 * after a yes the next look starts it again, so memory that is live costs one collection, not one per
 * look, and each further one needs `bytes` more.
 */
export class QuietCollectionRule {
  private floor?: number;
  private last = Number.NaN;

  /** `start`: the Buffers' memory at the start (undefined: the first look's is the floor). */
  constructor(
    private readonly bytes: number,
    start: number | undefined,
    private readonly quietUtilization = QUIET_UTILIZATION,
  ) {
    this.floor = start;
  }

  look({ buffers, utilization }: Look): boolean {
    this.floor = this.floor === undefined ? buffers : Math.min(this.floor, buffers);
    const quiet = Math.abs(buffers - this.last) < QUIET_DELTA_BYTES && utilization < this.quietUtilization;
    if (quiet && buffers - this.floor >= this.bytes) {
      this.floor = undefined;
      this.last = Number.NaN;
      return true;
    }
    this.last = buffers;
    return false;
  }
}

/**
 * The Buffers' backing stores, or undefined when they cannot be read: `process.memoryUsage()` opens
 * /proc/self/stat for RSS and throws EMFILE when the process has no fd left (docs/TOOLCHAIN.md).
 */
function buffersOrUndefined(): number | undefined {
  try {
    return process.memoryUsage().arrayBuffers;
  } catch {
    return undefined;
  }
}

/**
 * Runs a full collection when QuietCollectionRule says so, looking every `intervalMs` (2 s) at the
 * Buffers' backing stores (`arrayBuffers`, which falls as V8's sweeper frees them, where V8's external
 * figure waits for its next collection) and the event loop's utilization: the Buffers of a burst of
 * output that died in the old generation are freed once the process is quiet, where V8, collecting only
 * as it allocates, would keep them until the next burst (docs/BENCHMARKS.md "The quiet collection"). At
 * most one collection per `bytes` of Buffers made. A look that cannot read the figure (no fd left) is
 * skipped. Does nothing without a collector. Returns what stops it.
 */
export function startQuietCollections({
  intervalMs = 2000,
  bytes = 8 * 1024 * 1024,
  utilization = QUIET_UTILIZATION,
  collect = collector(),
}: QuietCollectionOptions = {}): () => void {
  if (!collect) return () => undefined;
  const rule = new QuietCollectionRule(bytes, buffersOrUndefined(), utilization);
  let loop = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const buffers = buffersOrUndefined();
    if (buffers === undefined) return; // no fd left: not quiet, and never an uncaught exception
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, loop).utilization;
    loop = now;
    if (rule.look({ buffers, utilization: busy })) collect({ type: 'major', execution: 'sync' });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
