import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Sums self time per function of a V8 .cpuprofile (node --cpu-prof) and prints the top entries, plus a
 * roll-up by package / source area, so "what dominates the hot path" is one command:
 *   node dist/bench/cpuprofile-summary.js <file.cpuprofile | dir> [top=40]
 */
interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface FnTime {
  name: string;
  where: string;
  area: string;
  selfMs: number;
}

function area(url: string): string {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:'))
    return url
      .replace(/^node:(internal\/)?/, 'node:')
      .split('/')
      .slice(0, 2)
      .join('/');
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const m = /\/dist\/(src\/[^/]+(?:\/[^/]+)?)/.exec(url);
  return m ? m[1].replace(/\.js$/, '') : url;
}

export function summarizeProfile(p: CpuProfile): { totalMs: number; idleMs: number; fns: FnTime[]; areas: Map<string, number> } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt);
  }
  const fns = new Map<string, FnTime>();
  const areas = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, ms] of self) {
    const cf = byId.get(id)!.callFrame;
    total += ms;
    if (cf.functionName === '(idle)') {
      idle += ms;
      continue;
    }
    const where = cf.url ? `${cf.url.replace(/^file:\/\//, '').replace(/^.*?\/(dist|node_modules)\//, '$1/')}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName}|${where}`;
    const a = area(cf.url);
    const f = fns.get(key) ?? { name: cf.functionName || '(anonymous)', where, area: a, selfMs: 0 };
    f.selfMs += ms;
    fns.set(key, f);
    areas.set(a, (areas.get(a) ?? 0) + ms);
  }
  return { totalMs: total, idleMs: idle, fns: [...fns.values()].sort((a, b) => b.selfMs - a.selfMs), areas };
}

function main(): void {
  const [target, topArg] = process.argv.slice(2);
  if (!target) throw new Error('usage: cpuprofile-summary <file.cpuprofile | dir> [top]');
  const files = statSync(target).isDirectory()
    ? readdirSync(target)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(target, f))
    : [target];
  const top = Number(topArg ?? 40);
  for (const file of files) {
    const s = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    const busy = s.totalMs - s.idleMs;
    const pct = (ms: number) => `${((100 * ms) / busy).toFixed(1)}%`.padStart(6);
    process.stdout.write(
      `\n== ${relative(process.cwd(), file)}: ${(s.totalMs / 1000).toFixed(1)} s sampled, busy ${(busy / 1000).toFixed(1)} s, idle ${(s.idleMs / 1000).toFixed(1)} s\n`,
    );
    process.stdout.write('-- self time by area (% of busy)\n');
    for (const [a, ms] of [...s.areas].sort((x, y) => y[1] - x[1]).slice(0, 20)) process.stdout.write(`${pct(ms)} ${ms.toFixed(0).padStart(7)} ms  ${a}\n`);
    process.stdout.write(`-- top ${top} functions by self time\n`);
    for (const f of s.fns.slice(0, top)) process.stdout.write(`${pct(f.selfMs)} ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.name}  ${f.where}\n`);
  }
}

if (require.main === module) main();
