import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** V8's gc() with options (its gc extension): a young-generation or a full collection, run now. */
export type Collect = (options: { type: 'minor' | 'major'; execution: 'sync' }) => void;

let collect: Collect | undefined;

/**
 * Obtains V8's gc() for the service's own collections (young-collections.ts, quiet-collections.ts), once;
 * the service does so at start (src/main.ts). False where V8 does not give it to JS: then collector()
 * stays undefined and both do nothing.
 */
export function enableCollector(): boolean {
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

/** What enableCollector obtained, or undefined. */
export function collector(): Collect | undefined {
  return collect;
}
