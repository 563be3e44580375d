import { msToNs, nowNs, nsToMs } from './time';

describe('Unix ns', () => {
  it('ms → ns rounds to whole ms and keeps every digit past 2^53', () => {
    expect(msToNs(1_796_590_656_550)).toBe(1_796_590_656_550_000_000n);
    expect(msToNs(1.6)).toBe(2_000_000n);
    expect(msToNs(0)).toBe(0n);
  });

  it('ns → ms truncates, from a bigint or the wire decimal string', () => {
    expect(nsToMs(1_796_590_656_550_999_999n)).toBe(1_796_590_656_550);
    expect(nsToMs('1796590656550000001')).toBe(1_796_590_656_550);
  });

  it('now is Date.now() in ns', () => {
    const before = Date.now();
    const n = nowNs();
    expect(nsToMs(n)).toBeGreaterThanOrEqual(before);
    expect(nsToMs(n)).toBeLessThanOrEqual(Date.now());
  });
});
