import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { getHeapCodeStatistics, writeHeapSnapshot } from 'node:v8';

/**
 * Preloaded into the bench's server child (`node -r dist/bench/memory-probe-preload.js`, with
 * EXEC_BENCH_MEMORY_FILE set) to say what its memory is: RSS is sampled every 50 ms and, at each new
 * peak, what the process holds then (V8's heap, external memory, code, the mapped files' share of RSS).
 * SIGUSR2 writes `{now, peak}` as JSON to that file and starts a new peak (bench/server-process.ts,
 * ServerHandle.memory()); with --expose-gc among the server's flags, after a full collection. Measurement only: the service never loads it.
 */
export interface MemoryBreakdown {
  /** MiB: resident set, and its anonymous and file-backed parts (/proc/self/status) */
  rss: number;
  rssAnon: number;
  rssFile: number;
  /** MiB: V8's heap (reserved, and live + dead objects in it) */
  heapTotal: number;
  heapUsed: number;
  /** MiB: memory outside V8's heap that JS objects hold (Buffers' and ArrayBuffers' backing stores among it) */
  external: number;
  arrayBuffers: number;
  /** MiB: V8's compiled code and bytecode with their metadata */
  code: number;
  /** The event loop's busy share (0–1) since the previous probe (SIGUSR2), or since the start */
  loopBusy?: number;
}

const MiB = 1024 * 1024;

function sample(): MemoryBreakdown {
  const m = process.memoryUsage();
  const code = getHeapCodeStatistics();
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN) / 1024;
  return {
    rss: m.rss / MiB,
    rssAnon: kb('RssAnon'),
    rssFile: kb('RssFile'),
    heapTotal: m.heapTotal / MiB,
    heapUsed: m.heapUsed / MiB,
    external: m.external / MiB,
    arrayBuffers: m.arrayBuffers / MiB,
    code: (code.code_and_metadata_size + code.bytecode_and_metadata_size) / MiB,
  };
}

const file = process.env.EXEC_BENCH_MEMORY_FILE;
if (file) {
  let peak = sample();
  let snapshots = 0;
  const timer = setInterval(() => {
    if (process.memoryUsage.rss() / MiB > peak.rss) peak = sample();
  }, 50);
  timer.unref();
  let loop = performance.eventLoopUtilization();
  process.on('SIGUSR2', () => {
    const loopNow = performance.eventLoopUtilization();
    const loopBusy = performance.eventLoopUtilization(loopNow, loop).utilization;
    loop = loopNow;
    // With SERVER_NODE_ARGS=--expose-gc: a full collection first, so `now` holds only what is live.
    (globalThis as { gc?: () => void }).gc?.();
    const now = { ...sample(), loopBusy };
    // With EXEC_BENCH_HEAP_SNAPSHOT_DIR set: a heap snapshot at each probe too, to see what holds the memory.
    const dir = process.env.EXEC_BENCH_HEAP_SNAPSHOT_DIR;
    if (dir) writeHeapSnapshot(`${dir}/probe-${process.pid}-${++snapshots}.heapsnapshot`);
    writeFileSync(`${file}.tmp`, JSON.stringify({ now, peak: now.rss > peak.rss ? now : peak }));
    renameSync(`${file}.tmp`, file);
    peak = now;
  });
}
