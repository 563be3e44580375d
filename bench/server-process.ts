import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GRPCConnectionManager, type ClientTlsOptions } from '@exec-stream/client';
import type { MemoryBreakdown } from './memory-probe-preload';

/** The repository root, whether this runs from bench/ (ts-jest) or dist/bench/ (built). */
export function repoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'proto', 'exec.proto'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error(`repository root not found above ${__dirname}`);
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
    srv.on('error', rej);
  });
}

export interface MemoryStatus {
  /** kB */
  rss: number;
  /** kB, peak since start or the last resetPeak() */
  hwm: number;
  /** kB of RSS that is anonymous memory (heap, Buffers, stacks): RSS less the mapped files (the node binary's pages) */
  anon: number;
}

export function readMemory(pid: number): MemoryStatus | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
    return { rss: kb('VmRSS'), hwm: kb('VmHWM'), anon: kb('RssAnon') };
  } catch {
    return undefined;
  }
}

/**
 * Peak RSS over a stretch of time: clears the kernel's high-water mark (clear_refs 5, Linux ≥ 4.0)
 * and also samples VmRSS every 50 ms, in case clear_refs is not allowed; reports the larger.
 */
export class PeakRss {
  private peakKb = 0;
  private peakAnonKb = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly hwmReset: boolean;

  constructor(private readonly pid: number) {
    let ok: boolean;
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      ok = true;
    } catch {
      ok = false;
    }
    this.hwmReset = ok;
    this.sample();
    this.timer = setInterval(() => this.sample(), 50);
  }

  private sample(): void {
    const m = readMemory(this.pid);
    if (m && m.rss > this.peakKb) this.peakKb = m.rss;
    if (m && m.anon > this.peakAnonKb) this.peakAnonKb = m.anon;
  }

  /** Peak anonymous RSS in MiB, as sampled (the kernel keeps no high-water mark of it); valid after stop(). */
  get anonMiB(): number {
    return this.peakAnonKb / 1024;
  }

  /** Peak in MiB; stops sampling. */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    const m = readMemory(this.pid);
    const hwm = this.hwmReset && m ? m.hwm : 0;
    return Math.max(this.peakKb, hwm) / 1024;
  }
}

export interface ServerOptions {
  /** Extra node flags (e.g. --cpu-prof --cpu-prof-dir=...). */
  nodeArgs?: string[];
  env?: Record<string, string>;
  /** append the child's output to this file */
  logFile?: string;
  /** The server serves TLS (EXEC_TLS_CERT in env): the readiness probe connects with these. */
  tls?: ClientTlsOptions;
  /** Preload bench/memory-probe-preload.js, so memory() can say what the server's memory is. */
  memoryProbe?: boolean;
}

export interface MemoryProbe {
  /** The server's memory now, and at its highest RSS since the last probe (or start). */
  now: MemoryBreakdown;
  peak: MemoryBreakdown;
}

export interface ServerHandle {
  address: string;
  pid: number;
  dataDir: string;
  /** The malloc it runs on: 'jemalloc' (scripts/serve.sh preloads it) or 'system' (EXEC_ALLOCATOR=system, or no library). */
  allocator: 'jemalloc' | 'system';
  /** lines the child wrote to stderr/stdout (warn level and above), for failure reports */
  output(): string;
  /** SIGTERM, wait for exit (so --cpu-prof writes its profile), remove the data dir. */
  stop(): Promise<void>;
  /** With ServerOptions.memoryProbe: the server's memory now and at its peak since the last call (which starts a new peak). */
  memory(): Promise<MemoryProbe | undefined>;
}

/**
 * The service as users run it: scripts/serve.sh (which execs `node <service flags> dist/src/main.js`,
 * so the child's pid is the service's) as a child process, on a free loopback port, with its own data
 * dir. Resolves once the gRPC server answers.
 */
export async function startServer(options: ServerOptions = {}, root = repoRoot()): Promise<ServerHandle> {
  const main = join(root, 'dist', 'src', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} missing: build first (npm run build)`);
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'exec-stream-bench-'));
  const probeFile = options.memoryProbe ? `${dataDir}.memory.json` : undefined;
  const probeArgs = probeFile ? ['-r', join(root, 'dist', 'bench', 'memory-probe-preload.js')] : [];
  const child: ChildProcess = spawn('bash', [join(root, 'scripts', 'serve.sh')], {
    cwd: root,
    env: {
      ...process.env,
      NODE: process.execPath,
      EXEC_NODE_ARGS: [...probeArgs, ...(options.nodeArgs ?? [])].join(' '),
      ...(probeFile ? { EXEC_BENCH_MEMORY_FILE: probeFile } : {}),
      NODE_OPTIONS: '',
      EXEC_LISTEN: address,
      EXEC_DATA_DIR: dataDir,
      EXEC_LOG_LEVEL: 'warn',
      // A replica id of its own: servers started side by side (the bench programs the suite runs at once)
      // would otherwise share the host name's, and each one's start-up removes the managed containers of
      // its replica id that it has no session for: the others' containers, between create and start.
      EXEC_REPLICA_ID: `bench-${process.pid}-${port}`,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => {
    if (options.logFile) appendFileSync(options.logFile, b);
    out += b.toString();
    if (out.length > 64_000) out = out.slice(-32_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));

  const conn = new GRPCConnectionManager({ address, tls: options.tls });
  try {
    await Promise.race([
      new Promise<void>((res, rej) =>
        conn.getClient().waitForReady(Date.now() + 30_000, (err) => (err ? rej(new Error(`server did not answer on ${address}: ${err.message}`)) : res())),
      ),
      exited.then((code) => {
        throw new Error(`server exited (code ${code}) before listening:\n${out}`);
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  } finally {
    conn.close();
  }

  return {
    address,
    pid: child.pid!,
    dataDir,
    allocator: readFileSync(`/proc/${child.pid}/maps`, 'utf8').includes('/libjemalloc.so') ? 'jemalloc' : 'system',
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dataDir, { recursive: true, force: true });
      if (probeFile) rmSync(probeFile, { force: true });
    },
    async memory() {
      if (!probeFile || child.exitCode !== null) return undefined;
      rmSync(probeFile, { force: true });
      child.kill('SIGUSR2');
      for (let i = 0; i < 100 && !existsSync(probeFile); i++) await new Promise((r) => setTimeout(r, 20));
      return existsSync(probeFile) ? (JSON.parse(readFileSync(probeFile, 'utf8')) as MemoryProbe) : undefined;
    },
  };
}
