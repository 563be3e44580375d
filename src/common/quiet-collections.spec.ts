import { QuietCollectionRule, startQuietCollections } from './quiet-collections';
import { collector, enableCollector } from './collector';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The looks (external memory in MiB, from a floor of 2 MiB) at which the rule says collect. */
function collectsAt(looks: number[], bytes = 16 * MiB): number[] {
  const rule = new QuietCollectionRule(bytes, 2 * MiB);
  return looks.flatMap((mib, i) => (rule.look(mib * MiB) ? [i] : []));
}

describe('QuietCollectionRule', () => {
  it('collects at the first quiet look after a burst left 16 MiB above the floor', () => {
    expect(collectsAt([2, 20, 40, 40, 40])).toEqual([3]);
    expect(collectsAt([2, 40, 40.5])).toEqual([2]); // moved less than QUIET_DELTA_BYTES: quiet
  });

  it('never while Buffers keep moving (a steady stream), nor while quiet below the bound', () => {
    expect(collectsAt([2, 20, 40, 25, 45, 30, 50, 35])).toEqual([]);
    expect(collectsAt([2, 10, 10, 10, 17.9, 17.9, 17.9])).toEqual([]);
  });

  it('what a collection leaves is the new floor: live memory costs one collection, and the floor follows a late drop', () => {
    expect(collectsAt([40, 40, 40, 40, 40, 40, 40])).toEqual([1]);
    // The collection's dead Buffers are counted until V8's sweeper is done (40 stays a look), then 5 is the floor.
    expect(collectsAt([40, 40, 40, 5, 5, 30, 30, 30])).toEqual([1, 6]);
  });
});

describe('startQuietCollections', () => {
  it('asks the rule every look and runs the real collector when it says so: memory held live is collected once', async () => {
    expect(enableCollector()).toBe(true);
    const real = collector()!;
    let calls = 0;
    const stop = startQuietCollections({ intervalMs: 50, bytes: 16 * MiB, collect: (o) => (calls++, real(o)) });
    const held = Array.from({ length: 64 }, () => Buffer.alloc(512 * 1024, 1));
    try {
      await sleep(1000); // 20 looks
      expect(held).toHaveLength(64);
      expect(calls).toBe(1);
    } finally {
      stop();
    }
  });
});
