import { PerformanceObserver, constants } from 'node:perf_hooks';
import { enableYoungCollections, noteShortLivedBytes, YOUNG_COLLECTION_STEP_BYTES } from './young-collections';

/** Young-generation collections V8 reports while `work` runs (and the observer flushes). */
async function minorCollectionsDuring(work: () => void): Promise<number> {
  let minor = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
  });
  observer.observe({ entryTypes: ['gc'] });
  work();
  await new Promise((r) => setTimeout(r, 50));
  observer.disconnect();
  return minor;
}

describe('young collections', () => {
  it('once enabled, every YOUNG_COLLECTION_STEP_BYTES noted runs a young-generation collection', async () => {
    expect(enableYoungCollections()).toBe(true);
    const seen = await minorCollectionsDuring(() => {
      for (let i = 0; i < 3; i++) noteShortLivedBytes(YOUNG_COLLECTION_STEP_BYTES);
    });
    // Nothing else here allocates enough to start one: at least the three asked for were run.
    expect(seen).toBeGreaterThanOrEqual(3);
  });
});
