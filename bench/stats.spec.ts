import { loadBenchConfig, parseBytes } from './config';
import { median, percentile, ratio, summarize } from './stats';
import { expectedSha256, yesCommand } from './payload';
import { outputPaths } from './run';
import { createHash } from 'node:crypto';

describe('bench statistics', () => {
  it('median, percentiles and ratios', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    const xs = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(500);
    expect(percentile(xs, 99)).toBe(990);
    expect(percentile(xs, 100)).toBe(1000);
    expect(summarize([5, 1, 9])).toEqual({ n: 3, median: 5, min: 1, max: 9 });
    expect(ratio(1, 0)).toBeNaN();
    expect(ratio(3, 2)).toBe(1.5);
  });
});

describe('bench config', () => {
  it('takes a preset, then env, then flags', () => {
    const cfg = loadBenchConfig({ BENCH_MODE: 'full', BENCH_S1_BYTES: '8M' }, ['--s2-clients=1,2', '--reps=5']);
    expect(cfg.mode).toBe('full');
    expect(cfg.s1Bytes).toBe(8 * 1024 * 1024);
    expect(cfg.s2Clients).toEqual([1, 2]);
    expect(cfg.reps).toBe(5);
    expect(parseBytes('1G')).toBe(1024 ** 3);
    expect(() => loadBenchConfig({}, ['--nope=1'])).toThrow(/unknown flag/);
  });

  it('leaves the checkout unmodified unless asked to record the run', () => {
    for (const mode of ['smoke', 'quick', 'full']) expect(loadBenchConfig({ BENCH_MODE: mode }).writeDocs).toBe(false);
    const plain = outputPaths(loadBenchConfig({}, ['--mode=full']), '/repo');
    expect(plain).toEqual({ jsonDir: '/repo/.data/bench' });
    const recorded = outputPaths(loadBenchConfig({}, ['--write-docs']), '/repo');
    expect(recorded).toEqual({ jsonDir: '/repo/bench/results', docsFile: '/repo/docs/BENCHMARKS.md' });
  });
});

describe('payload', () => {
  it('predicts the bytes `yes LINE | head -c N` writes', () => {
    const { line } = yesCommand(7, 10_000);
    const want = Buffer.alloc(10_000);
    for (let i = 0; i < want.length; i++) want[i] = line.charCodeAt(i % line.length);
    expect(expectedSha256(7, 10_000)).toBe(createHash('sha256').update(want).digest('hex'));
  });
});
