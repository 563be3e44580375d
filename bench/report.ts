import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import type { BenchConfig } from './config';
import { fmtBytes } from './config';
import type { Row, ScenarioResult } from './scenarios';

export interface MachineInfo {
  cores: number;
  cpu: string;
  memoryGiB: number;
  kernel: string;
  docker: string;
  node: string;
  commit: string;
}

export interface BenchReport {
  startedAt: string;
  durationS: number;
  machine: MachineInfo;
  /** The malloc the bench's server ran on (scripts/serve.sh's EXEC_ALLOCATOR). */
  allocator: string;
  config: BenchConfig;
  results: ScenarioResult[];
}

function sh(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd });
  return r.status === 0 ? r.stdout.trim() : '?';
}

export function machineInfo(root: string): MachineInfo {
  const dirty = sh('git', ['status', '--porcelain', '--', 'src'], root);
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? '?',
    memoryGiB: +(totalmem() / 1024 ** 3).toFixed(1),
    kernel: release(),
    docker: sh('docker', ['version', '--format', '{{.Server.Version}}']),
    node: process.version,
    commit: sh('git', ['rev-parse', '--short', 'HEAD'], root) + (dirty && dirty !== '?' ? ' (src/ has uncommitted changes)' : ''),
  };
}

const num = (v: number, unit: string): string => {
  if (!Number.isFinite(v)) return 'n/a';
  if (unit === 'count') return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
};

function cells(r: Row): [string, string, string, string, string] {
  const s = r.summary;
  const range = s.n > 1 ? `${num(s.min, r.unit)}–${num(s.max, r.unit)}` : '';
  const ratios = r.ratios.map((x) => `${Number.isFinite(x.ratio) ? x.ratio.toFixed(2) : 'n/a'}× ${x.to}`).join('; ');
  return [`${r.metric}`, r.variant, `${num(s.median, r.unit)} ${r.unit}`, range, ratios];
}

/** Plain text table for the terminal. */
export function textTable(results: ScenarioResult[]): string {
  const lines: string[][] = [['scenario', 'metric', 'variant', 'median', 'min–max', 'ratio']];
  for (const sc of results) {
    if (sc.na) {
      lines.push([`${sc.id}. ${sc.title}`, 'n/a', sc.na, '', '', '']);
      continue;
    }
    sc.rows.forEach((r, i) => lines.push([i ? '' : `${sc.id}. ${sc.title}`, ...cells(r)]));
    for (const g of sc.goals) lines.push(['', `goal: ${g.text}`, g.met ? 'MET' : 'NOT MET', num(g.value, ''), '', '']);
    for (const c of sc.checks) if (!c.ok) lines.push(['', `CHECK FAILED: ${c.name}`, c.detail ?? '', '', '', '']);
  }
  const widths = lines[0].map((_, i) => Math.min(48, Math.max(...lines.map((l) => l[i].length))));
  return lines
    .map((l) =>
      l
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The generated part of docs/BENCHMARKS.md. */
export function markdown(rep: BenchReport): string {
  const m = rep.machine;
  const c = rep.config;
  const out: string[] = [];
  out.push(`### Run of ${rep.startedAt} (${c.mode}, ${rep.durationS.toFixed(0)} s)`, '');
  out.push(
    `Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Linux ${m.kernel}, Docker ${m.docker}, Node ${m.node}, commit ${m.commit}; ` +
      `the server's allocator ${rep.allocator}. ` +
      'Shared machine: other work may have been running.',
    '',
  );
  out.push(
    `Sizes: s1 ${fmtBytes(c.s1Bytes)}; s2 ${fmtBytes(c.s2Bytes)} × clients ${c.s2Clients.join('/')}; s3 ${c.s3DurationMs} ms at ${c.s3IntervalMs} ms; ` +
      `s4 ${fmtBytes(c.s4Bytes)}, stall ${c.s4StallMs} ms; s5 ${c.s5Reps} reps; s6 ${c.s6Sessions} × ${fmtBytes(c.s6Bytes)}; s7 ${c.s7Calls} calls; A/B repetitions ${c.reps}.`,
    '',
  );
  out.push('| scenario | metric | variant | median | min–max | ratio to baseline |', '|---|---|---|---|---|---|');
  for (const sc of rep.results) {
    if (sc.na) {
      out.push(`| ${sc.id}. ${sc.title} | — | n/a: ${sc.na} | | | |`);
      continue;
    }
    sc.rows.forEach((r, i) => out.push(`| ${i ? '' : `${sc.id}. ${sc.title}`} | ${cells(r).join(' | ')} |`));
  }
  out.push('', '| goal | value | target | met |', '|---|---|---|---|');
  for (const sc of rep.results) for (const g of sc.goals) out.push(`| ${sc.id}. ${g.text} | ${num(g.value, '')} | ${g.target} | ${g.met ? 'yes' : '**no**'} |`);
  const failed = rep.results.flatMap((sc) => sc.checks.filter((x) => !x.ok).map((x) => `${sc.id}. ${x.name}: ${x.detail ?? ''}`));
  out.push(
    '',
    failed.length
      ? `Correctness checks FAILED:\n${failed.map((f) => `- ${f}`).join('\n')}`
      : 'Every correctness check passed (byte counts, sha256 of every client and stream, exit codes, clock agreement).',
  );
  const notes = rep.results.flatMap((sc) => sc.notes.map((n) => `- ${sc.id}: ${n}`));
  if (notes.length) out.push('', ...notes);
  return out.join('\n');
}

export const DOC_START = '<!-- bench:generated:start (written by npm run bench; edits inside are overwritten) -->';
export const DOC_END = '<!-- bench:generated:end -->';

/** Replaces the generated block of docs/BENCHMARKS.md (or appends one). */
export function writeDocs(file: string, block: string): void {
  const body = `${DOC_START}\n${block}\n${DOC_END}`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n';
  const a = text.indexOf(DOC_START);
  const b = text.indexOf(DOC_END);
  if (a >= 0 && b > a) text = text.slice(0, a) + body + text.slice(b + DOC_END.length);
  else text = `${text.trimEnd()}\n\n## Latest run\n\n${body}\n`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

export function writeJson(dir: string, rep: BenchReport): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${rep.startedAt.replace(/[:]/g, '-').replace(/\..*$/, '')}-${rep.config.mode}.json`);
  writeFileSync(file, JSON.stringify(rep, null, 2) + '\n');
  return file;
}
