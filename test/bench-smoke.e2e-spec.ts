/**
 * The benchmark harness (bench/, `npm run bench`) in smoke mode: tiny sizes, one repetition, against the
 * freshly built service as a child process and the docker CLI, so the harness cannot rot unnoticed.
 * It asserts that every scenario produced numbers and that every correctness check held (byte counts,
 * sha256 of every client and stream, exit codes); it never asserts anything about speed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBenchConfig } from '../bench/config';
import { DOC_END, DOC_START } from '../bench/report';
import { runBench, type RunOutcome } from '../bench/run';
import { buildService } from '../bench/server-process';

// The smoke run starts four servers (plain, metrics, TLS) and Docker's CLI runs: minutes on a busy machine.
jest.setTimeout(300_000);

let outDir: string;
let run: RunOutcome;

beforeAll(async () => {
  buildService();
  outDir = mkdtempSync(join(tmpdir(), 'exec-stream-bench-smoke-'));
  const cfg = loadBenchConfig({ BENCH_MODE: 'smoke', BENCH_OUT_DIR: outDir, BENCH_WRITE_DOCS: 'true' });
  run = await runBench(cfg, () => undefined);
});

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

it('runs every scenario and every correctness check holds', () => {
  const ids = run.report.results.map((r) => r.id);
  expect(ids).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 11]);
  const failed = run.report.results.flatMap((r) => r.checks.filter((c) => !c.ok).map((c) => `${r.id}. ${c.name}: ${c.detail}`));
  expect(failed).toEqual([]);
  // Every scenario must have checked something (sha256 / byte counts / codes): a harness that checks nothing passes nothing.
  for (const r of run.report.results) expect({ scenario: r.id, checks: r.checks.length > 0 }).toEqual({ scenario: r.id, checks: true });
});

it('every scenario produced numbers', () => {
  for (const r of run.report.results) {
    expect({ scenario: r.id, na: r.na }).toEqual({ scenario: r.id, na: undefined });
    expect(r.rows.length).toBeGreaterThan(0);
    for (const row of r.rows) {
      expect({ scenario: r.id, row: `${row.metric} / ${row.variant}`, median: Number.isFinite(row.summary.median) }).toEqual({
        scenario: r.id,
        row: `${row.metric} / ${row.variant}`,
        median: true,
      });
      for (const x of row.ratios) expect(Number.isFinite(x.ratio)).toBe(true);
    }
  }
  const s1 = run.report.results.find((r) => r.id === 1)!;
  expect(s1.goals.map((g) => g.text)).toHaveLength(4);
  // CPU-seconds from /proc: the server's, the client's, the docker CLI's and dockerd's, per GiB.
  expect(s1.rows.filter((r) => r.metric === 'CPU per GiB' && r.summary.median > 0).length).toBeGreaterThanOrEqual(6);
});

it('writes the JSON, the docs block and a terminal table', () => {
  const json = JSON.parse(readFileSync(run.jsonFile, 'utf8'));
  expect(json.machine.cores).toBeGreaterThan(0);
  expect(json.machine.docker).not.toBe('?');
  expect(json.results).toHaveLength(9);
  const doc = join(outDir, 'BENCHMARKS.md');
  expect(existsSync(doc)).toBe(true);
  const text = readFileSync(doc, 'utf8');
  expect(text).toContain(DOC_START);
  expect(text).toContain(DOC_END);
  expect(text).toMatch(/\| 1\. Throughput, one client \| wall \| exec-stream \|/);
  expect(run.table).toMatch(/Throughput/);
});
