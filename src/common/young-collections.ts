import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Bytes of short-lived Buffers between two young-generation collections (measured: docs/BENCHMARKS.md). */
export const YOUNG_COLLECTION_STEP_BYTES = 8 * 1024 * 1024;

type Collect = (options: { type: 'minor'; execution: 'sync' }) => void;

let collect: Collect | undefined;
let sinceLast = 0;

/**
 * A file copied out of a container (CopyFrom) arrives as Docker's socket reads: a new Buffer of up to
 * 64 KiB each, dead as soon as its bytes are in a message, with very few JS objects per byte. V8 frees
 * such a Buffer only when it collects its small wrapper, and with so few objects made it collects
 * seldom: ~100 MiB of dead reads waited per GiB copied. Once enabled, every YOUNG_COLLECTION_STEP_BYTES
 * counted by noteShortLivedBytes runs one young-generation collection (a scavenge: it frees the dead
 * Buffers and costs only what is alive). Enabled by the service at start (src/main.ts); until then,
 * in processes that never enable it (tests hosting the service in-process), and where V8 does not give
 * the collector to JS (enable returns false), counting does nothing. The count is the process's, so a
 * collection may also promote other calls' young objects (a session's newest chunks) a little sooner.
 *
 * Not used on the output path: there the chunks live on in the tail window, so scavenges promote them
 * instead of freeing them, and measured CPU per byte rose.
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

/** Counts `bytes` of short-lived Buffers made; collects the young generation every YOUNG_COLLECTION_STEP_BYTES. */
export function noteShortLivedBytes(bytes: number): void {
  if (!collect) return;
  sinceLast += bytes;
  if (sinceLast < YOUNG_COLLECTION_STEP_BYTES) return;
  sinceLast = 0;
  collect({ type: 'minor', execution: 'sync' });
}
