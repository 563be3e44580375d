/**
 * What the service's idle memory is made of before it does anything (issue 30's idle goal): a fresh Node
 * (this one, with the service's `--max-semi-space-size=4`) that only `require`s a set of modules, then,
 * after two full collections and a rest, reports its RSS (anonymous, and file-backed: the node binary's
 * own pages), V8's heap used and reserved, and the modules loaded. Each set adds to the one before, from
 * a bare Node to the service's whole app module (dist/src/app.module.js: everything the service loads
 * before it listens). On glibc's malloc (serve.sh's jemalloc is not preloaded here), one process per set.
 *
 *   bash scripts/build.sh && node_modules/.bin/node dist/bench/module-footprint.js [--rest-ms=1000] [--json]
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const MiB = 1024 * 1024;

/** Each set loads these on top of every set before it. */
const SETS: Array<{ name: string; modules: string[] }> = [
  { name: 'bare Node', modules: [] },
  { name: '+ reflect-metadata, rxjs', modules: ['reflect-metadata', 'rxjs'] },
  { name: '+ @nestjs/common, @nestjs/core', modules: ['@nestjs/common', '@nestjs/core'] },
  { name: '+ @nestjs/microservices', modules: ['@nestjs/microservices'] },
  { name: '+ @grpc/grpc-js, @grpc/proto-loader', modules: ['@grpc/grpc-js', '@grpc/proto-loader'] },
  { name: '+ class-validator', modules: ['class-validator'] },
  { name: '+ pino, prom-client', modules: ['pino', 'prom-client'] },
  // (dockerode through the service's stand-in for docker-modem's ssh transport: modem-without-ssh.ts)
  { name: "+ the service's app module (and dockerode)", modules: [join(ROOT, 'dist', 'src', 'app.module.js')] },
];

export interface Footprint {
  set: string;
  rssMiB: number;
  anonMiB: number;
  fileMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  modules: number;
}

/**
 * The child: requires MODULES (JSON), collects twice, rests, and prints its figures as JSON. Modules are
 * counted by a load hook, CommonJS and ESM alike (NestJS 12 is ESM, loaded by require(): its files are
 * not in require.cache).
 */
const CHILD = `
const loaded = new Set();
require('module').registerHooks({ load(url, context, next) { loaded.add(url); return next(url, context); } });
const modules = JSON.parse(process.env.FOOTPRINT_MODULES);
for (const m of modules) require(m);
setTimeout(() => {
  gc(); gc();
  setTimeout(() => {
    const m = process.memoryUsage();
    const status = require('fs').readFileSync('/proc/self/status', 'utf8');
    const kib = (k) => Number(new RegExp(k + ':\\\\s+(\\\\d+)').exec(status)[1]);
    console.log(JSON.stringify({ rss: m.rss, anon: kib('RssAnon') * 1024, file: kib('RssFile') * 1024,
      heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, modules: loaded.size }));
  }, Number(process.env.FOOTPRINT_REST_MS));
}, Number(process.env.FOOTPRINT_REST_MS));
`;

export function measure(restMs: number): Footprint[] {
  const loaded: string[] = [];
  return SETS.map(({ name, modules }) => {
    loaded.push(...modules);
    const out = execFileSync(process.execPath, ['--max-semi-space-size=4', '--expose-gc', '-e', CHILD], {
      cwd: ROOT,
      env: { ...process.env, FOOTPRINT_MODULES: JSON.stringify(loaded), FOOTPRINT_REST_MS: String(restMs), LD_PRELOAD: '' },
      encoding: 'utf8',
    });
    const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>;
    const mib = (n: number) => Math.round((n / MiB) * 10) / 10;
    return {
      set: name,
      rssMiB: mib(r.rss),
      anonMiB: mib(r.anon),
      fileMiB: mib(r.file),
      heapUsedMiB: mib(r.heapUsed),
      heapTotalMiB: mib(r.heapTotal),
      externalMiB: mib(r.external),
      modules: r.modules,
    };
  });
}

function main(): void {
  let restMs = 1000;
  let json = false;
  for (const a of process.argv.slice(2)) {
    const [k, v = ''] = a.replace(/^--/, '').split('=');
    if (k === 'rest-ms') {
      restMs = Number(v);
      if (!Number.isInteger(restMs) || restMs < 0 || restMs > 60_000) throw new Error(`--rest-ms takes whole milliseconds, 0 to 60000 (got ${v})`);
    } else if (k === 'json') json = true;
    else throw new Error(`unknown option ${a} (--rest-ms=N, --json)`);
  }
  const rows = measure(restMs);
  if (json) return void console.log(JSON.stringify(rows, null, 2));
  console.log('| modules loaded | RSS | anonymous | file-backed | V8 heap used / reserved | external | modules |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.set} | ${r.rssMiB} MiB | ${r.anonMiB} | ${r.fileMiB} | ${r.heapUsedMiB} / ${r.heapTotalMiB} | ${r.externalMiB} | ${r.modules} |`);
  }
}

if (require.main === module) main();
