import { CHUNK_OVERHEAD, ChunkWindow, ReadCache } from './chunk-window';
import type { ChunkRecord } from './session-files';

const chunk = (sequence: number, bytes = 10): ChunkRecord => ({ sequence, stream: 'stdout', timestampNs: 0n, data: Buffer.alloc(bytes) });

describe('ChunkWindow', () => {
  it('keeps the newest chunks within the byte limit, always the last one', () => {
    const w = new ChunkWindow(() => 3 * (10 + CHUNK_OVERHEAD) + 5); // room for three 10-byte chunks
    for (let i = 1; i <= 5000; i++) w.push(chunk(i));
    expect(w.get(4997)).toBeUndefined();
    expect([4998, 4999, 5000].map((n) => w.get(n)?.sequence)).toEqual([4998, 4999, 5000]);
    expect(w.get(5001)).toBeUndefined();
    w.push(chunk(5001, 3 * (10 + CHUNK_OVERHEAD)));
    expect(w.get(5000)).toBeUndefined();
    expect(w.get(5001)?.sequence).toBe(5001);
  });
});

describe('ReadCache', () => {
  it('reads a chunk once for concurrent and later readers, and evicts the oldest beyond its limit', async () => {
    const reads: number[] = [];
    const read = async (n: number) => (reads.push(n), chunk(n));
    const cache = new ReadCache(() => 2 * (10 + CHUNK_OVERHEAD) + 5); // room for two 10-byte chunks
    const [a, b] = await Promise.all([cache.get(1, read), cache.get(1, read)]);
    expect(a).toBe(b);
    await cache.get(2, read);
    await cache.get(3, read); // three do not fit: chunk 1 goes
    expect(await cache.get(2, read)).toBeDefined();
    await cache.get(1, read);
    expect(reads).toEqual([1, 2, 3, 1]);
  });

  it('forgets a failed read so that the next reader tries again', async () => {
    const cache = new ReadCache(() => 100);
    await expect(
      cache.get(1, async () => {
        throw new Error('EIO');
      }),
    ).rejects.toThrow('EIO');
    expect((await cache.get(1, async (n) => chunk(n))).sequence).toBe(1);
  });
});
