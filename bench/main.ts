import { loadBenchConfig } from './config';
import { runBench } from './run';

/**
 * `node dist/bench/main.js [--mode=quick|full|smoke] [--s1-bytes=256M …] [--write-docs] [--dry-run]` — see
 * scripts/bench.sh. --dry-run prints the configuration the flags and BENCH_* variables make (JSON) and runs
 * nothing; flags the harness does not take fail it as they fail a run.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const cfg = loadBenchConfig(
    process.env,
    args.filter((a) => a !== '--dry-run'),
  );
  if (args.includes('--dry-run')) {
    process.stdout.write(`${JSON.stringify(cfg)}\n`);
    return;
  }
  const { table, jsonFile, report } = await runBench(cfg);
  process.stdout.write(`\n${table}\n\nJSON: ${jsonFile}\n`);
  if (cfg.writeDocs) process.stdout.write(`docs/BENCHMARKS.md updated\n`);
  const failed = report.results.flatMap((r) => r.checks.filter((c) => !c.ok));
  // Speed never fails the bench; wrong bytes do.
  if (failed.length) {
    process.stderr.write(`\n${failed.length} correctness check(s) failed\n`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
  process.exit(2);
});
