import { rfc3339Nano, TimestampLines } from './timestamps';

describe('TimestampLines', () => {
  it('prefixes each line with the time of the chunk it begins in, per stream, as docker logs -t', () => {
    const t = new TimestampLines();
    const ns = (s: number) => BigInt(s) * 1_000_000_000n + 5n;
    const out = [
      t.apply({ stream: 'stdout', data: Buffer.from('a\nb'), timestampNs: ns(1) }),
      t.apply({ stream: 'stderr', data: Buffer.from('e\n'), timestampNs: ns(2) }),
      t.apply({ stream: 'stdout', data: Buffer.from('c\n\nd\n'), timestampNs: ns(3) }),
    ].map(String);
    expect(out).toEqual([
      '1970-01-01T00:00:01.000000005Z a\n1970-01-01T00:00:01.000000005Z b',
      '1970-01-01T00:00:02.000000005Z e\n',
      'c\n1970-01-01T00:00:03.000000005Z \n1970-01-01T00:00:03.000000005Z d\n',
    ]);
    expect(rfc3339Nano(1_733_500_000_123_456_789n)).toBe('2024-12-06T15:46:40.123456789Z');
  });
});
