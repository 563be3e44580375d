import { crc32 } from 'node:zlib';
import { encodeRecord, nextAvailable, RECORD_BYTES, verifyIndex } from './session-files-verify';

/** An index for chunks given as [stream, data]; offsets follow each stream's running length. */
function buildIndex(chunks: Array<['stdout' | 'stderr', string]>): { index: Buffer; sizes: { stdout: number; stderr: number } } {
  const sizes = { stdout: 0, stderr: 0 };
  const parts = chunks.map(([stream, text], i) => {
    const data = Buffer.from(text);
    const rec = encodeRecord(Buffer.alloc(RECORD_BYTES), stream, data, sizes[stream], BigInt(i + 1));
    sizes[stream] += data.length;
    return rec;
  });
  return { index: Buffer.concat(parts), sizes };
}

const CHUNKS: Array<['stdout' | 'stderr', string]> = [
  ['stdout', 'one\n'],
  ['stderr', 'warn\n'],
  ['stdout', 'two\n'],
  ['stdout', 'three\n'],
];

describe('verifyIndex', () => {
  it('accepts an intact index and says how many bytes of each stream it accounts for', () => {
    const { index, sizes } = buildIndex(CHUNKS);
    const r = verifyIndex(index, sizes);
    expect(r).toMatchObject({ count: 4, missing: [], recorded: { stdout: 14, stderr: 5 }, tornBytes: 0, problems: [] });
    expect(r.entries.map((e) => [e?.stream, e?.offset, e?.length])).toEqual([
      ['stdout', 0, 4],
      ['stderr', 0, 5],
      ['stdout', 4, 4],
      ['stdout', 8, 6],
    ]);
  });

  it('drops a torn last record and reports it', () => {
    const { index, sizes } = buildIndex(CHUNKS);
    const r = verifyIndex(index.subarray(0, index.length - 10), sizes);
    expect(r.count).toBe(3);
    expect(r.tornBytes).toBe(22);
    expect(r.recorded).toEqual({ stdout: 8, stderr: 5 });
    expect(r.problems.join()).toMatch(/torn record \(22 bytes\)/);
  });

  it('marks a record whose own checksum fails as missing, keeping later sequence numbers', () => {
    const { index, sizes } = buildIndex(CHUNKS);
    index[RECORD_BYTES * 1 + 5] ^= 0xff; // chunk 2's length field
    const r = verifyIndex(index, sizes);
    expect(r.count).toBe(4);
    expect(r.missing).toEqual([2]);
    expect(r.entries[1]).toBeUndefined();
    expect(r.entries[2]?.offset).toBe(4);
    expect(r.recorded).toEqual({ stdout: 14, stderr: 0 });
    expect(r.problems.join()).toMatch(/chunk 2: record checksum mismatch/);
  });

  it('marks chunks that lie beyond a truncated stream file as missing', () => {
    const { index, sizes } = buildIndex(CHUNKS);
    const r = verifyIndex(index, { ...sizes, stdout: 9 }); // 'three\n' starts at 8: cut
    expect(r.missing).toEqual([4]);
    expect(r.recorded.stdout).toBe(8);
    expect(r.problems.join()).toMatch(/chunk 4: stdout bytes 8\.\.14 lie beyond the file's end \(9 bytes: truncated\)/);
  });

  it('marks a record that overlaps earlier output (not contiguous) as missing', () => {
    const { index, sizes } = buildIndex(CHUNKS);
    encodeRecord(index.subarray(RECORD_BYTES * 2, RECORD_BYTES * 3), 'stdout', Buffer.from('two\n'), 0, 3n);
    const r = verifyIndex(index, sizes);
    expect(r.missing).toEqual([3]);
    expect(r.problems.join()).toMatch(/overlaps earlier output/);
  });

  it('rejects an unknown stream code even with a valid record checksum', () => {
    const { index, sizes } = buildIndex(CHUNKS);
    const rec = index.subarray(0, RECORD_BYTES);
    rec[0] = 7;
    rec.writeUInt32LE(crc32(rec.subarray(0, 28)), 28);
    const r = verifyIndex(index, sizes);
    expect(r.missing).toEqual([1]);
    expect(r.problems[0]).toMatch(/unknown stream code 7/);
  });
});

describe('nextAvailable (gap computation)', () => {
  const missing = [3, 4, 5, 9, 12];
  it.each([
    [1, 1, 0],
    [3, 6, 3],
    [4, 6, 2],
    [6, 6, 0],
    [9, 10, 1],
    [12, 13, 1], // the last chunk is missing: next is last + 1, gap 1 (reported as DATA_LOSS at the end)
  ])('from %i → chunk %i with gap_before %i', (from, sequence, gap) => {
    expect(nextAvailable(missing, from, 12)).toEqual({ sequence, gap });
  });
  it('never walks past the last chunk', () => {
    expect(nextAvailable([5, 6], 5, 5)).toEqual({ sequence: 6, gap: 1 });
  });
});
