/**
 * The benchmarks (bench/, docs/BENCHMARKS.md) as a user runs them: `npm run bench` in smoke mode with
 * every scenario (9 against this same checkout, 10 with both replicas on this machine's engine, 12, the
 * soak, at 10 short sessions and 2 s of its steady session),
 * `npm run bench:memory`, `npm run bench:copy-files` and bench/list-sessions.ts, each at the smallest
 * sizes that still run all of its code, side by side, so that the harness cannot rot unnoticed. It
 * asserts that every scenario produced numbers and that every correctness check held (byte counts,
 * sha256 of every client and stream, exit codes); never anything about speed.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCommand, summary, type CommandRun } from './support/commands';

const ALL_SCENARIOS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

let outDir: string;
let bench: CommandRun;
let memory: CommandRun;
let copyFiles: CommandRun;
let listSessions: CommandRun;
let report: { machine: Record<string, unknown>; results: any[] };

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'exec-stream-bench-smoke-'));
  // Built once here: the npm scripts below build again, and find nothing to do (side by side, safely).
  expect(summary(await runCommand('bash', ['scripts/build.sh']))).toMatchObject({ code: 0 });
  [bench, memory, copyFiles, listSessions] = await Promise.all([
    runCommand('npm', [
      'run',
      'bench',
      '--',
      '--mode=smoke',
      `--scenarios=${ALL_SCENARIOS.join(',')}`,
      `--compare-root=${ROOT}`,
      `--out-dir=${outDir}`,
      '--write-docs',
    ]),
    // The image's peak memory: 2 clients of 64 KiB, a stalled client of 1 MiB, 2 sessions at once.
    runCommand('npm', ['run', 'bench:memory', '--', '--fanout-clients=2', '--fanout-bytes=64K', '--stalled-bytes=1M', '--sessions=2', '--session-bytes=64K']),
    // `npm run bench:copy-files -- --bytes=1M` (BENCHMARKS.md)
    runCommand('npm', ['run', 'bench:copy-files', '--', '--bytes=1M']),
    runCommand('node', ['dist/bench/list-sessions.js', '--sessions=10', '--calls=3', '--small-bytes=100', '--large-bytes=8K', '--json']),
  ]);
  const json = readdirSync(outDir).find((f) => f.endsWith('-smoke.json'));
  report = json ? JSON.parse(readFileSync(join(outDir, json), 'utf8')) : { machine: {}, results: [] };
}, 600_000); // a bound for a wedged run; the four take well under a minute together on an idle 2-core machine

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

it('npm run bench runs every scenario and every correctness check holds', () => {
  // The failed checks first: they say what failed, where the exit code alone would not.
  const failed = report.results.flatMap((r) => r.checks.filter((c: any) => !c.ok).map((c: any) => `${r.id}. ${c.name}: ${c.detail}`));
  expect(failed).toEqual([]);
  expect(summary(bench)).toMatchObject({ code: 0 });
  expect(report.results.map((r) => r.id)).toEqual(ALL_SCENARIOS);
  // Every scenario must have checked something (sha256 / byte counts / codes): a harness that checks nothing passes nothing.
  for (const r of report.results) expect({ scenario: r.id, checks: r.checks.length > 0 }).toEqual({ scenario: r.id, checks: true });
});

it('every scenario produced numbers', () => {
  for (const r of report.results) {
    expect({ scenario: r.id, na: r.na }).toEqual({ scenario: r.id, na: undefined });
    expect(r.rows.length).toBeGreaterThan(0);
    for (const row of r.rows) {
      expect({ scenario: r.id, row: `${row.metric} / ${row.variant}`, median: Number.isFinite(row.summary.median) }).toEqual({
        scenario: r.id,
        row: `${row.metric} / ${row.variant}`,
        median: true,
      });
      for (const x of row.ratios) {
        // A ratio is "n/a" only when its baseline measured 0 (a CPU time under /proc's 10 ms, at these sizes).
        const base = r.rows.find((b: any) => b.metric === row.metric && b.variant === x.to)?.summary.median;
        expect({ row: `${row.metric} / ${row.variant} × ${x.to}`, finite: Number.isFinite(x.ratio) || base === 0 }).toEqual({
          row: `${row.metric} / ${row.variant} × ${x.to}`,
          finite: true,
        });
      }
    }
  }
  const s1 = report.results.find((r) => r.id === 1);
  expect(s1.goals.map((g: any) => g.text)).toHaveLength(4);
  // CPU-seconds from /proc: the server's, the client's, the docker CLI's and dockerd's, per GiB.
  expect(s1.rows.filter((r: any) => r.metric === 'CPU per GiB').length).toBeGreaterThanOrEqual(6);
});

it('writes the JSON, the docs block and a terminal table', () => {
  expect(report.machine.cores).toBeGreaterThan(0);
  expect(report.machine.docker).not.toBe('?');
  const doc = readFileSync(join(outDir, 'BENCHMARKS.md'), 'utf8');
  expect(doc).toMatch(/^<!-- bench:generated:start .*-->$/m);
  expect(doc).toContain('<!-- bench:generated:end -->');
  expect(doc).toMatch(/\| 1\. Throughput, one client \| wall \| exec-stream \|/);
  expect(bench.stdout).toMatch(/Throughput/);
  expect(bench.stdout).toContain(`JSON: ${outDir}/`);
});

it('npm run bench:memory: every client of the image-run service gets its bytes (sha256), in every scenario, and the service is not OOM-killed', () => {
  expect(summary(memory)).toMatchObject({ code: 0 });
  expect(memory.stderr).not.toContain('FAILED');
  const rows = memory.stdout.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| scenario'));
  expect(rows.map((l) => l.split('|')[1].trim())).toEqual([
    'idle (after one run)',
    '2 clients on one session of 64 KiB',
    'a stalled client while 1 MiB flows',
    '2 sessions at once, 64 KiB each',
  ]);
});

it('npm run bench:copy-files: 1 MiB in and out, sha256 equal, both directions measured', () => {
  expect(summary(copyFiles)).toMatchObject({ code: 0 });
  const result = JSON.parse(copyFiles.stdout.trim().split('\n').at(-1)!);
  expect(result).toMatchObject({ bytes: 1024 * 1024, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  expect(result.rows.map((r: any) => [r.name, Number.isFinite(r.seconds)])).toEqual([
    ['CopyTo', true],
    ['CopyFrom', true],
  ]);
});

it('bench/list-sessions.ts: every query answers over both data dirs, with the sessions each must list', () => {
  expect(summary(listSessions)).toMatchObject({ code: 0 });
  const { small, large } = JSON.parse(listSessions.stdout);
  const items = (r: Record<string, { items: number; p50: number }>) => Object.fromEntries(Object.entries(r).map(([q, v]) => [q, v.items]));
  const want = { 'all, limit 1000': 10, 'first page, limit 100': 10, 'label filter (1 in 10), limit 1000': 1, 'state running (none)': 0 };
  expect(items(small)).toEqual(want);
  expect(items(large)).toEqual(want);
  for (const r of [small, large]) for (const v of Object.values<{ p50: number }>(r)) expect(Number.isFinite(v.p50)).toBe(true);
});
