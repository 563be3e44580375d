import { collector } from './collector';

/** Bytes of short-lived Buffers between two young-generation collections (measured: docs/BENCHMARKS.md). */
export const YOUNG_COLLECTION_STEP_BYTES = 8 * 1024 * 1024;

let sinceLast = 0;

/**
 * Counts `bytes` of short-lived Buffers made; every YOUNG_COLLECTION_STEP_BYTES runs one young-generation
 * collection, which frees the dead socket reads of a CopyFrom that V8 would otherwise keep long
 * (docs/BENCHMARKS.md "Files in and out", also why the output path does not use it). Does nothing until
 * the service obtained the collector (enableCollector, at start) or where V8 does not give it. The count
 * is the process's: a collection may promote other calls' young objects a little sooner.
 */
export function noteShortLivedBytes(bytes: number): void {
  const collect = collector();
  if (!collect) return;
  sinceLast += bytes;
  if (sinceLast < YOUNG_COLLECTION_STEP_BYTES) return;
  sinceLast = 0;
  collect({ type: 'minor', execution: 'sync' });
}
