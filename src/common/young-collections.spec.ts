import { PerformanceObserver, constants } from 'node:perf_hooks';
import { enableCollector } from './collector';
import { noteShortLivedBytes, YOUNG_COLLECTION_STEP_BYTES } from './young-collections';

/**
 * Young-generation collections V8 reports for `work`: the observer's entries arrive in later turns of
 * the event loop, so this waits (bounded) until `expected` were reported, and returns how many were.
 */
async function minorCollectionsDuring(work: () => void, expected: number): Promise<number> {
  let minor = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
  });
  observer.observe({ entryTypes: ['gc'] });
  work();
  for (const end = Date.now() + 5000; minor < expected && Date.now() < end;) await new Promise((r) => setTimeout(r, 5));
  observer.disconnect();
  return minor;
}

describe('young collections', () => {
  it('once enabled, every YOUNG_COLLECTION_STEP_BYTES noted runs a young-generation collection', async () => {
    expect(enableCollector()).toBe(true);
    const seen = await minorCollectionsDuring(() => {
      for (let i = 0; i < 3; i++) noteShortLivedBytes(YOUNG_COLLECTION_STEP_BYTES);
    }, 3);
    // Nothing else here allocates enough to start one: at least the three asked for were run.
    expect(seen).toBeGreaterThanOrEqual(3);
  });
});
