import { QUIET_UTILIZATION, QuietCollectionRule, startQuietCollections } from './quiet-collections';
import { collector, enableCollector } from './collector';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 20 ms for up to `ms` (5 s); the error says `what` (a function: what it is at the end). */
async function until(what: string | (() => string), check: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !check(); await sleep(20))
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${typeof what === 'string' ? what : what()}`);
}

/**
 * Collects what is dead now and waits until the Buffers' memory holds still (V8's sweeper done); what is
 * left. Twice: the second brings V8's own external count down too, which would otherwise make V8 collect
 * a test's burst by itself (its limit counts from it) before the rule's turn.
 */
async function settled(): Promise<number> {
  expect(enableCollector()).toBe(true);
  collector()!({ type: 'major', execution: 'sync' });
  await sleep(100);
  collector()!({ type: 'major', execution: 'sync' });
  let last = -1;
  for (let i = 0; i < 100 && process.memoryUsage().arrayBuffers !== last; i++) {
    last = process.memoryUsage().arrayBuffers;
    await sleep(50);
  }
  return process.memoryUsage().arrayBuffers;
}

/** The looks (Buffers' memory in MiB, from a floor of 2 MiB; the event loop idle unless `busy` says) at which the rule says collect. */
function collectsAt(looks: number[], bytes = 16 * MiB, busy: number[] = []): number[] {
  const rule = new QuietCollectionRule(bytes, 2 * MiB);
  return looks.flatMap((mib, i) => (rule.look({ buffers: mib * MiB, utilization: busy[i] ?? 0.001 }) ? [i] : []));
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

  it('never while the event loop is busy, even when the Buffers hold still (a steady stream); at its end, from the floor before it', () => {
    // A stream holds 12 MiB live, steady from look to look, at 30 % of the loop; then ends with 20 MiB left.
    const stream = [2, 14, 14, 14, 14, 14, 20, 20];
    const busy = [0, 0.3, 0.3, 0.3, 0.3, 0.3, 0.001, 0.001];
    expect(collectsAt(stream, 8 * MiB, busy)).toEqual([7]);
    // Were the loop not counted, it would collect mid-stream, take 14 as the floor, and leave the 20 at the end.
    expect(collectsAt(stream, 8 * MiB)).toEqual([2]);
    expect(collectsAt([2, 30, 30, 30], 16 * MiB, [0, QUIET_UTILIZATION, QUIET_UTILIZATION, QUIET_UTILIZATION])).toEqual([]);
  });
});

// Quiet below 20 % here: Jest's worker, polling, and the unit phase's load beside it (the image build)
// come past the service's 5 % at these short looks (n3: no collection in 1 s at 50 ms looks).
describe('startQuietCollections', () => {
  it('a look that cannot read the Buffers (no fd left: memoryUsage throws EMFILE) is skipped, never thrown from its timer; the next one counts', () => {
    jest.useFakeTimers({ doNotFake: ['performance'] });
    const emfile = Object.assign(new Error('EMFILE: too many open files, uv_resident_set_memory'), { code: 'EMFILE' });
    let buffers = 30 * MiB;
    let failing = false;
    const usage = jest.spyOn(process, 'memoryUsage').mockImplementation(() => {
      if (failing) throw emfile;
      return { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: buffers };
    });
    let calls = 0;
    // A quiet share above 1: the loop's own business in this test never stands in the way.
    const stop = startQuietCollections({ intervalMs: 100, bytes: 16 * MiB, utilization: 1.01, collect: () => void calls++ });
    try {
      buffers = 40 * MiB;
      failing = true;
      expect(() => jest.advanceTimersByTime(1000)).not.toThrow();
      expect(calls).toBe(0);
      failing = false;
      // Readable again at 40 MiB: 10 MiB above the floor of 30 (a look that read 0 would have made 0 the floor: 40 above).
      jest.advanceTimersByTime(300);
      expect(calls).toBe(0);
      buffers = 50 * MiB;
      jest.advanceTimersByTime(300); // moved, then quiet at 20 MiB above the floor
      expect(calls).toBe(1);
    } finally {
      stop();
      usage.mockRestore();
      jest.useRealTimers();
    }
  });

  it('asks the rule every look and runs the real collector when it says so: memory held live is collected once', async () => {
    // Collected first: the Buffers a cold start leaves dead (ts-jest reading and compiling the file) would
    // be the rule's floor, then fall away with the held ones counted in it (n4: no collection in 15 s).
    await settled();
    const real = collector()!;
    let calls = 0;
    const stop = startQuietCollections({ intervalMs: 200, bytes: 16 * MiB, utilization: 0.2, collect: (o) => (calls++, real(o)) });
    const held = Array.from({ length: 64 }, () => Buffer.alloc(512 * 1024, 1));
    try {
      await until(
        () => `a collection (${calls})`,
        () => calls > 0,
        15_000,
      );
      await sleep(1000); // 5 more looks
      expect(held).toHaveLength(64);
      expect(calls).toBe(1);
    } finally {
      stop();
    }
  });

  it("frees a burst's dead Buffers once quiet (the process's Buffers' memory drops), and then collects no more", async () => {
    const before = await settled();
    let calls = 0;
    const stop = startQuietCollections({ intervalMs: 200, bytes: 8 * MiB, utilization: 0.2, collect: (o) => (calls++, collector()!(o)) });
    try {
      let burst: Buffer[] | undefined = Array.from({ length: 48 }, () => Buffer.alloc(512 * 1024, 1)); // 24 MiB
      // Into the old generation, where a burst's Buffers die in the service: only a full collection frees them.
      collector()!({ type: 'minor', execution: 'sync' });
      collector()!({ type: 'minor', execution: 'sync' });
      expect(burst).toHaveLength(48);
      burst = undefined;
      // Freed by its collection, or by one of V8's own if that came first (it may, on a loaded machine).
      await until(
        () => `the burst freed (Buffers ${((process.memoryUsage().arrayBuffers - before) / MiB).toFixed(1)} MiB above before, ${calls} collections)`,
        () => process.memoryUsage().arrayBuffers - before < 4 * MiB,
        15_000,
      );
      const freedAfter = calls;
      await sleep(1000); // 5 quiet looks, nothing more made
      expect(burst).toBeUndefined();
      expect(calls).toBe(freedAfter); // no collection once freed
      expect(calls).toBeLessThanOrEqual(1);
    } finally {
      stop();
    }
  });

  it('not while the event loop is busy, even with Buffers 16 MiB above the floor holding still; once it is quiet, once', async () => {
    const before = await settled();
    let calls = 0;
    const stop = startQuietCollections({ intervalMs: 200, bytes: 8 * MiB, utilization: 0.2, collect: (o) => (calls++, collector()!(o)) });
    // The loop busy ~60 % of the time: 6 ms of work every 10 ms.
    const spin = setInterval(() => {
      const end = performance.now() + 6;
      while (performance.now() < end);
    }, 10);
    try {
      const held = Array.from({ length: 32 }, () => Buffer.alloc(512 * 1024, 1)); // 16 MiB, live throughout
      await sleep(1000); // 5 looks
      expect(calls).toBe(0);
      clearInterval(spin);
      await until('collected once quiet', () => calls === 1);
      expect(held).toHaveLength(32);
      expect(process.memoryUsage().arrayBuffers - before).toBeGreaterThanOrEqual(16 * MiB); // live: nothing to free
    } finally {
      clearInterval(spin);
      stop();
    }
  });
});
