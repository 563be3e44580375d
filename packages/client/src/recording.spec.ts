import { AsciicastWriter } from './recording';

const S = 1_000_000_000n;
const start = 1_700_000_000n * S;

describe('AsciicastWriter', () => {
  it('starts with the first size, places each later size after the chunk it followed, and counts seconds from the start', () => {
    const w = new AsciicastWriter(
      [
        { timestampNs: start, width: 80, height: 24, afterSequence: 0 },
        { timestampNs: start + S / 10n, width: 100, height: 30, afterSequence: 0 },
        { timestampNs: start + 3n * S, width: 120, height: 40, afterSequence: 1 },
      ],
      start,
      'a title',
    );
    expect(JSON.parse(w.header())).toEqual({ version: 2, width: 80, height: 24, timestamp: 1_700_000_000, title: 'a title' });
    expect(w.chunk({ stream: 'stdout', data: Buffer.from('$ '), sequence: 1, timestampNs: start + 2n * S }).map((l) => JSON.parse(l))).toEqual([
      [0.1, 'r', '100x30'],
      [2, 'o', '$ '],
    ]);
    expect(w.chunk({ stream: 'stdout', data: Buffer.from('hi\r\n'), sequence: 2, timestampNs: start + 4n * S }).map((l) => JSON.parse(l))).toEqual([
      [3, 'r', '120x40'],
      [4, 'o', 'hi\r\n'],
    ]);
    expect(w.end()).toEqual([]);
  });

  it('joins a UTF-8 character split between chunks, and never goes back in time', () => {
    const w = new AsciicastWriter([], start);
    const euro = Buffer.from('x€');
    const a = w.chunk({ stream: 'stdout', data: euro.subarray(0, 2), sequence: 1, timestampNs: start + 2n * S });
    const b = w.chunk({ stream: 'stdout', data: euro.subarray(2), sequence: 2, timestampNs: start + S });
    expect(a.map((l) => JSON.parse(l))).toEqual([[2, 'o', 'x']]);
    expect(b.map((l) => JSON.parse(l))).toEqual([[2, 'o', '€']]);
    expect(JSON.parse(w.header())).toMatchObject({ width: 80, height: 24 });
  });
});
