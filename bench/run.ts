import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { BenchConfig } from './config';
import { dockerRun, dockerSync } from './docker-cli';
import { machineInfo, markdown, textTable, writeDocs, writeJson, type BenchReport } from './report';
import { SCENARIOS, type BenchContext, type ScenarioResult } from './scenarios';
import { lineOutput } from './line-output';
import { repoRoot, startServer } from './server-process';
import { ExecClient, GRPCConnectionManager, type ClientTlsOptions } from '@exec-stream/client';
import { compareBuilds } from './compare-builds';
import { optionsCost } from './options-cost';
import { throughForwarder } from './forwarding';
import { soak } from './soak';

const ALL_SCENARIOS: Record<number, (ctx: BenchContext) => Promise<ScenarioResult>> = {
  ...SCENARIOS,
  8: optionsCost,
  9: compareBuilds,
  10: throughForwarder,
  11: lineOutput,
  12: soak,
};

export interface RunOutcome {
  report: BenchReport;
  jsonFile: string;
  table: string;
}

/**
 * Runs the selected scenarios against one server child (dist/src/main.js must be built) and writes the
 * results. The server keeps finished containers (EXEC_REMOVE_CONTAINERS=false) so scenario 4 can read
 * Docker's StartedAt/FinishedAt; the bench removes every container it caused. Retention is short so
 * a full run does not keep gigabytes of session files on disk.
 */
export async function runBench(cfg: BenchConfig, log: (m: string) => void = (m) => process.stderr.write(m + '\n')): Promise<RunOutcome> {
  const root = repoRoot();
  const started = new Date();
  const t0 = performance.now();
  dockerSync(['image', 'inspect', '--format', '{{.Id}}', cfg.image]);
  const nodeArgs: string[] = [];
  if (cfg.cpuProfDir) nodeArgs.push('-r', join(root, 'dist', 'bench', 'profile-preload.js'), '--cpu-prof', `--cpu-prof-dir=${cfg.cpuProfDir}`);
  nodeArgs.push(...cfg.serverNodeArgs.split(' ').filter(Boolean));
  const env = { EXEC_REMOVE_CONTAINERS: 'false', EXEC_RETENTION_SECONDS: '5', ...parseEnv(cfg.serverEnv) };
  const server = await startServer({ nodeArgs, logFile: cfg.serverLog || undefined, env, memoryProbe: true }, root);
  log(`[bench] ${cfg.mode}: server pid ${server.pid} on ${server.address}, allocator ${server.allocator}`);
  const results: ScenarioResult[] = [];
  try {
    await warmUp(cfg, server.address);
    // Scenario 8's extra servers: started like the first (without --cpu-prof: one profile is the bench's own).
    const spawnServer = (more: Record<string, string>, tls?: ClientTlsOptions, otherRoot = root, memoryProbe = false) =>
      startServer(
        { nodeArgs: cfg.serverNodeArgs.split(' ').filter(Boolean), logFile: cfg.serverLog || undefined, env: { ...env, ...more }, tls, memoryProbe },
        otherRoot,
      );
    const ctx: BenchContext = { cfg, server, log, spawnServer };
    for (const id of cfg.scenarios) {
      const run = ALL_SCENARIOS[id];
      if (!run) throw new Error(`no scenario ${id}`);
      const s0 = performance.now();
      const load0 = loadavg();
      log(`[bench] scenario ${id} (load average ${loadText(load0)})`);
      const result = await run(ctx);
      // The machine is shared: every figure goes with the load it was measured under.
      const load1 = loadavg();
      result.notes.push(`load average (1, 5, 15 min) at the start ${loadText(load0)}, at the end ${loadText(load1)}`);
      results.push(result);
      log(`[bench] scenario ${id} done in ${((performance.now() - s0) / 1000).toFixed(1)} s (load average ${loadText(load1)})`);
    }
  } catch (e) {
    log(`[bench] aborted: ${(e as Error).stack}\n[bench] server output:\n${server.output()}`);
    throw e;
  } finally {
    await server.stop();
  }
  const report: BenchReport = {
    startedAt: started.toISOString(),
    durationS: (performance.now() - t0) / 1000,
    machine: machineInfo(root),
    allocator: server.allocator,
    config: cfg,
    results,
  };
  const out = outputPaths(cfg, root);
  const jsonFile = writeJson(out.jsonDir, report);
  if (out.docsFile) writeDocs(out.docsFile, markdown(report));
  return { report, jsonFile, table: textTable(results) };
}

/**
 * Where a run's results go: a measurement leaves the checkout as it was (.data/ is ignored by git)
 * unless it is to be recorded (--write-docs): then bench/results/ and docs/BENCHMARKS.md.
 */
export function outputPaths(cfg: Pick<BenchConfig, 'outDir' | 'writeDocs'>, root: string): { jsonDir: string; docsFile?: string } {
  if (cfg.outDir) return { jsonDir: cfg.outDir, docsFile: cfg.writeDocs ? join(cfg.outDir, 'BENCHMARKS.md') : undefined };
  if (!cfg.writeDocs) return { jsonDir: join(root, '.data', 'bench') };
  return { jsonDir: join(root, 'bench', 'results'), docsFile: join(root, 'docs', 'BENCHMARKS.md') };
}

const loadText = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');

function parseEnv(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of s.split(' ').filter(Boolean)) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new Error(`BENCH_SERVER_ENV: ${kv} is not K=V`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

/** One small run each way first, so neither side pays first-use costs (image layers, connections). */
async function warmUp(cfg: BenchConfig, address: string): Promise<void> {
  const conn = new GRPCConnectionManager({ address });
  try {
    const s = new ExecClient(conn).run(cfg.image, { command: ['echo', 'warm'] });
    const r = await s.collect();
    if (r.exitCode !== 0 || r.stdout.toString() !== 'warm\n') throw new Error(`warm-up run failed: exit ${r.exitCode}`);
    const id = (await s.ready).containerId;
    dockerSync(['rm', '-f', id]);
  } finally {
    conn.close();
  }
  await dockerRun(cfg.image, ['echo', 'warm'], 'default');
}
