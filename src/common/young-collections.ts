import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Bytes of short-lived Buffers between two young-generation collections (measured: docs/BENCHMARKS.md). */
export const YOUNG_COLLECTION_STEP_BYTES = 8 * 1024 * 1024;

/** V8's gc() with options (its gc extension): a young-generation or a full collection, run now. */
export type Collect = (options: { type: 'minor' | 'major'; execution: 'sync' }) => void;

let collect: Collect | undefined;
let sinceLast = 0;

/**
 * Once enabled, every YOUNG_COLLECTION_STEP_BYTES counted by noteShortLivedBytes runs one young-generation
 * collection, which frees the dead socket reads of a CopyFrom that V8 would otherwise keep long
 * (docs/BENCHMARKS.md "Files in and out", also why the output path does not use it). Enabled by the
 * service at start (src/main.ts); until then, and where V8 does not give the collector to JS (returns
 * false), counting does nothing. The count is the process's: a collection may promote other calls'
 * young objects a little sooner.
 */
export function enableYoungCollections(): boolean {
  if (collect) return true;
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
    collect = typeof gc === 'function' ? (gc as Collect) : undefined;
  } catch {
    collect = undefined;
  }
  return !!collect;
}

/** The collector enableYoungCollections obtained, for the quiet-time collection (quiet-collections.ts). */
export function collector(): Collect | undefined {
  return collect;
}

/** Counts `bytes` of short-lived Buffers made; collects the young generation every YOUNG_COLLECTION_STEP_BYTES. */
export function noteShortLivedBytes(bytes: number): void {
  if (!collect) return;
  sinceLast += bytes;
  if (sinceLast < YOUNG_COLLECTION_STEP_BYTES) return;
  sinceLast = 0;
  collect({ type: 'minor', execution: 'sync' });
}
