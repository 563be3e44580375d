import { createHash } from 'node:crypto';
import { loadBenchConfig } from './config';
import { expectedSha256 } from './payload';
import { matchesRepeated, prng, yesBytes } from './soak';

describe('scenario 12 (soak) helpers and sizes', () => {
  it("yesBytes is what `yes LINE | head -c N` writes (payload.ts's expected sha256)", () => {
    for (const n of [1, 4093, 32 * 1024, 100_000]) expect(createHash('sha256').update(yesBytes(7, n)).digest('hex')).toBe(expectedSha256(7, n));
  });

  it('matchesRepeated: a stream of one block repeated, checked at any offset; a byte lost or shifted fails', () => {
    const block = yesBytes(12, 10_000);
    const stream = Buffer.concat([block, block, block]);
    expect(matchesRepeated(block, 0, stream)).toBe(true);
    expect(matchesRepeated(block, 12_345, stream.subarray(12_345, 29_000))).toBe(true);
    expect(matchesRepeated(block, 12_345, stream.subarray(12_346, 29_000))).toBe(false);
    expect(matchesRepeated(block, 0, Buffer.concat([block.subarray(0, 9_999), block]))).toBe(false);
  });

  it('prng: the same seed makes the same choices, in [0, 1)', () => {
    const a = prng(5);
    const b = prng(5);
    const xs = Array.from({ length: 100 }, () => a());
    expect(xs).toEqual(Array.from({ length: 100 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it("runs only when named: the issue's sizes by default, smoke sizes for the suite, flags named like the others", () => {
    for (const mode of ['quick', 'full']) {
      const cfg = loadBenchConfig({ BENCH_MODE: mode });
      expect(cfg.scenarios).not.toContain(12);
      expect([cfg.soakSessions, cfg.soakSeconds, cfg.soakRate]).toEqual([10_000, 1800, 10_000_000]);
    }
    const smoke = loadBenchConfig({ BENCH_MODE: 'smoke' });
    expect(smoke.scenarios).not.toContain(12);
    expect(smoke.soakSessions).toBeLessThanOrEqual(20);
    expect(smoke.soakSeconds).toBeLessThanOrEqual(5);
    const cfg = loadBenchConfig({ BENCH_SOAK_RATE: '2M' }, ['--scenarios=12', '--soak-sessions=300', '--soak-seconds=60']);
    expect([cfg.scenarios, cfg.soakSessions, cfg.soakSeconds, cfg.soakRate]).toEqual([[12], 300, 60, 2 * 1024 * 1024]);
  });
});
