import type { ServiceError } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { ExecClient, GRPCConnectionManager, type ClientTlsOptions, type ExecSession } from '@exec-stream/client';
import type { BenchConfig } from './config';
import { fmtBytes } from './config';
import { containerWallMs, dockerRun, dockerSync, removeContainers, runCli } from './docker-cli';
import { expectedSha256, yesCommand, zeroCommand } from './payload';
import { PeakRss, type ServerHandle } from './server-process';
import { PlainGrpcClient } from './plain-client';
import { ClientProcesses, dockerAttachFanOut } from './fanout-clients';
import type { MemoryBreakdown } from './memory-probe-preload';
import { CpuMeter, perGiB, type CpuSample } from './cpu';
import { median, percentile, ratio, summarize, type Summary } from './stats';

// ---------------------------------------------------------------------------------------------------
// Result shapes

export interface Row {
  /** what was measured, e.g. "wall" */
  metric: string;
  /** which side, e.g. "exec-stream" or "docker run (json-file)" */
  variant: string;
  unit: string;
  samples: number[];
  summary: Summary;
  /** variants this row is compared with (same metric): median(this) / median(that) */
  baselines: string[];
  ratios: { to: string; ratio: number }[];
}

export interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface Goal {
  text: string;
  value: number;
  target: number;
  met: boolean;
}

export interface ScenarioResult {
  id: number;
  title: string;
  params: Record<string, string | number>;
  rows: Row[];
  checks: Check[];
  goals: Goal[];
  /** set when the scenario could not be measured (e.g. RPC not implemented) */
  na?: string;
  notes: string[];
}

export interface BenchContext {
  cfg: BenchConfig;
  server: ServerHandle;
  log: (msg: string) => void;
  /**
   * Starts another server like `server` with more environment (scenario 8), or from another built
   * checkout (`root`, scenario 9); the caller stops it.
   */
  spawnServer?: (env: Record<string, string>, tls?: ClientTlsOptions, root?: string, memoryProbe?: boolean) => Promise<ServerHandle>;
}

export class Scenario {
  readonly rows: Row[] = [];
  readonly checks: Check[] = [];
  readonly goals: Goal[] = [];
  readonly notes: string[] = [];
  na?: string;
  constructor(
    readonly id: number,
    readonly title: string,
    readonly params: Record<string, string | number>,
  ) {}

  row(metric: string, variant: string, unit: string, samples: number[], baseline?: string | string[]): Row {
    const baselines = baseline === undefined ? [] : Array.isArray(baseline) ? baseline : [baseline];
    const r: Row = { metric, variant, unit, samples, summary: summarize(samples), baselines, ratios: [] };
    this.rows.push(r);
    return r;
  }

  /** Fills ratio for every row that names a baseline. */
  ratios(): void {
    for (const r of this.rows) {
      r.ratios = r.baselines.map((to) => {
        const b = this.rows.find((x) => x.metric === r.metric && x.variant === to);
        return { to, ratio: ratio(r.summary.median, b?.summary.median) };
      });
    }
  }

  check(name: string, ok: boolean, detail?: string): void {
    const prev = this.checks.find((c) => c.name === name);
    if (prev) {
      prev.ok &&= ok;
      if (!ok && detail) prev.detail = detail;
    } else this.checks.push({ name, ok, detail: ok ? undefined : detail });
  }

  goal(text: string, value: number, target: number): void {
    this.goals.push({ text, value, target, met: Number.isFinite(value) && value <= target });
  }

  result(): ScenarioResult {
    this.ratios();
    return { id: this.id, title: this.title, params: this.params, rows: this.rows, checks: this.checks, goals: this.goals, na: this.na, notes: this.notes };
  }
}

// ---------------------------------------------------------------------------------------------------
// Helpers

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowMs = () => performance.now();
/** Wall-clock ms since the epoch with sub-ms resolution (CLOCK_REALTIME, as the container's clock). */
const realtimeMs = () => performance.timeOrigin + performance.now();

/** Rotates the order of variants per repetition, so neither side always runs first (warm caches). */
export async function alternate<T extends string>(reps: number, variants: T[], run: (v: T, rep: number) => Promise<void>): Promise<void> {
  for (let rep = 0; rep < reps; rep++) {
    const order = variants.map((_, i) => variants[(i + rep) % variants.length]);
    for (const v of order) await run(v, rep);
  }
}

function connect(ctx: BenchContext, ownConnection = false): GRPCConnectionManager {
  return new GRPCConnectionManager({
    address: ctx.server.address,
    // Separate clients get separate HTTP/2 connections (grpc-js shares subchannels by default).
    channelOptions: ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : undefined,
  });
}

interface Drained {
  bytes: number;
  sha256?: string;
  firstByteMs: number;
  endMs: number;
  exitCode: number;
  stderr: string;
}

/** Reads a session's output to its exit; times relative to t0 (performance.now()). */
export async function drain(s: ExecSession, t0: number, o: { hash?: boolean; onData?: (b: Buffer, atMs: number) => void } = {}): Promise<Drained> {
  const h = o.hash ? createHash('sha256') : undefined;
  let bytes = 0;
  let firstByteMs = NaN;
  let stderr = '';
  for await (const p of s.output()) {
    if (p.stream === 'stderr') {
      stderr += p.data.toString();
      continue;
    }
    const at = nowMs();
    if (!bytes) firstByteMs = at - t0;
    bytes += p.data.length;
    h?.update(p.data);
    o.onData?.(p.data, at);
  }
  const exitCode = await s.exit;
  return { bytes, sha256: h?.digest('hex'), firstByteMs, endMs: nowMs() - t0, exitCode, stderr };
}

export const errText = (e: unknown) => (e as Error)?.message ?? String(e);

/**
 * Rows saying what the server's memory is at one moment in each sample (the bench's memory probe,
 * bench/memory-probe-preload.ts): RSS and its anonymous and file-backed parts, V8's heap, external
 * memory (Buffers), V8's code. Nothing when the server runs without the probe.
 */
export function memoryRows(sc: Scenario, what: string, variant: string, samples: (MemoryBreakdown | undefined)[]): void {
  const got = samples.filter((m): m is MemoryBreakdown => !!m);
  if (!got.length) return;
  const parts: [Exclude<keyof MemoryBreakdown, 'loopBusy'>, string][] = [
    ['rss', 'RSS'],
    ['rssAnon', 'RSS anonymous'],
    ['rssFile', 'RSS file-backed (the node binary, mapped files)'],
    ['heapTotal', 'V8 heap reserved'],
    ['heapUsed', 'V8 heap used'],
    ['external', 'external (Buffers)'],
    ['arrayBuffers', "Buffers' backing stores (arrayBuffers)"],
    ['code', 'V8 code and bytecode'],
  ];
  for (const [k, label] of parts)
    sc.row(
      `${what}: ${label}`,
      variant,
      'MiB',
      got.map((m) => m[k]),
    );
}

// ---------------------------------------------------------------------------------------------------
// Scenarios

/**
 * 1. One client, N bytes of /dev/zero: Start → exit against docker run (json-file, none). Our client
 * (ExecClient, a 4 MiB HTTP/2 window) and a plain grpc-js client with default options (64 KiB).
 */
export async function throughput(ctx: BenchContext): Promise<ScenarioResult> {
  const { cfg } = ctx;
  const n = cfg.s1Bytes;
  const sc = new Scenario(1, 'Throughput, one client', { bytes: fmtBytes(n), reps: cfg.reps, command: `head -c ${n} /dev/zero` });
  const conn = connect(ctx);
  const client = new ExecClient(conn);
  const plain = new PlainGrpcClient(ctx.server.address);
  const cmd = zeroCommand(n);
  const variants = ['es', 'plain', 'def', 'none'] as const;
  const walls: Record<string, number[]> = { es: [], plain: [], def: [], none: [] };
  const cpu: Record<string, CpuSample[]> = { es: [], plain: [], def: [], none: [] };
  const meter = new CpuMeter(ctx.server.pid);
  const containers: string[] = [];
  try {
    await alternate(cfg.reps, [...variants], async (v) => {
      const spent = meter.start();
      if (v === 'es') {
        const t0 = nowMs();
        const s = client.run(cfg.image, { command: cmd });
        s.ready.then((r) => containers.push(r.containerId)).catch(() => undefined);
        try {
          const d = await drain(s, t0);
          walls.es.push(d.endMs);
          sc.check('exec-stream: every byte, exit 0', d.bytes === n && d.exitCode === 0, `got ${d.bytes} bytes, exit ${d.exitCode}`);
        } catch (e) {
          sc.check('exec-stream: every byte, exit 0', false, errText(e));
        }
      } else if (v === 'plain') {
        const t0 = nowMs();
        try {
          const r = await plain.run(cfg.image, cmd, (id) => containers.push(id));
          walls.plain.push(nowMs() - t0);
          sc.check('exec-stream, plain grpc-js client: every byte, exit 0', r.bytes === n && r.exitCode === 0, `got ${r.bytes} bytes, exit ${r.exitCode}`);
        } catch (e) {
          sc.check('exec-stream, plain grpc-js client: every byte, exit 0', false, errText(e));
        }
      } else {
        const r = await dockerRun(cfg.image, cmd, v === 'def' ? 'default' : 'none');
        walls[v].push(r.wallMs);
        sc.check(
          `docker run (${v === 'def' ? 'default' : 'none'}): every byte`,
          r.bytes === n && r.exitCode === 0,
          `got ${r.bytes} bytes, exit ${r.exitCode} ${r.stderr}`,
        );
      }
      // The server finishes its last writes after the client's last byte: let it settle before reading.
      if (v === 'es' || v === 'plain') await sleep(100);
      const c = spent();
      cpu[v].push(c);
      ctx.log(
        `  s1 ${v}: ${walls[v].at(-1)?.toFixed(0)} ms; CPU s: server ${c.server.toFixed(2)} bench ${c.bench.toFixed(2)} docker CLI ${c.children.toFixed(2)} dockerd ${c.dockerd.toFixed(2)}`,
      );
    });
  } finally {
    conn.close();
    plain.close();
    removeContainers(containers);
  }
  const es = sc.row('wall', 'exec-stream', 'ms', walls.es, ['docker run (json-file)', 'docker run --log-driver none']);
  sc.row('wall', 'exec-stream, plain grpc-js client', 'ms', walls.plain, 'docker run --log-driver none');
  sc.row('wall', 'docker run (json-file)', 'ms', walls.def);
  sc.row('wall', 'docker run --log-driver none', 'ms', walls.none);
  for (const [v, label] of [
    ['es', 'exec-stream'],
    ['plain', 'exec-stream, plain grpc-js client'],
    ['def', 'docker run (json-file)'],
    ['none', 'docker run --log-driver none'],
  ]) {
    sc.row(
      'throughput',
      label,
      'MB/s',
      walls[v].map((w) => n / 1e6 / (w / 1000)),
    );
  }
  // CPU-seconds per GiB from /proc (steadier than wall on a shared machine): who spends what to move the bytes.
  const g = (v: string, k: keyof CpuSample) => cpu[v].map((c) => perGiB(c[k], n));
  const CLI = 'docker CLI (--log-driver none)';
  const srv = sc.row('CPU per GiB', 'exec-stream server', 's', g('es', 'server'), CLI);
  const srvPlain = sc.row('CPU per GiB', 'exec-stream server, plain grpc-js client', 's', g('plain', 'server'), CLI);
  sc.row('CPU per GiB', 'exec-stream client (ExecClient in the bench)', 's', g('es', 'bench'), 'bench reading the docker CLI pipe');
  sc.row('CPU per GiB', 'plain grpc-js client (in the bench)', 's', g('plain', 'bench'), 'bench reading the docker CLI pipe');
  sc.row('CPU per GiB', CLI, 's', g('none', 'children'));
  sc.row('CPU per GiB', 'docker CLI (json-file)', 's', g('def', 'children'));
  sc.row('CPU per GiB', 'bench reading the docker CLI pipe', 's', g('none', 'bench'));
  sc.row('CPU per GiB', 'dockerd, exec-stream session', 's', g('es', 'dockerd'), 'dockerd, docker run --log-driver none');
  sc.row('CPU per GiB', 'dockerd, docker run --log-driver none', 's', g('none', 'dockerd'));
  sc.row('CPU per GiB', 'dockerd, docker run (json-file)', 's', g('def', 'dockerd'));
  sc.ratios();
  sc.goal('wall ≤ 0.4× docker run (json-file)', es.ratios[0].ratio, 0.4);
  sc.goal('wall ≤ 1.25× docker run --log-driver none', es.ratios[1].ratio, 1.25);
  sc.goal('server CPU per byte ≤ 1.5× docker CLI (--log-driver none)', srv.ratios[0].ratio, 1.5);
  sc.goal('server CPU per byte, plain grpc-js client ≤ 1.5× docker CLI (--log-driver none)', srvPlain.ratios[0].ratio, 1.5);
  return sc.result();
}

/**
 * 2. One session of N bytes, k clients (1 runs in the bench process, k−1 attach by session id, each on
 * its own connection, in S2_PROCESSES client processes or, with 0, in the bench process): wall to the
 * last byte. Against Docker's own fan-out: k `docker attach` CLIs on one container (fanout-clients.ts).
 */
export async function fanOut(ctx: BenchContext): Promise<ScenarioResult> {
  const { cfg } = ctx;
  const n = cfg.s2Bytes;
  const seed = 2;
  const want = expectedSha256(seed, n);
  const procs = cfg.s2Processes;
  const sc = new Scenario(2, 'Fan-out', {
    bytes: fmtBytes(n),
    clients: cfg.s2Clients.join(','),
    reps: cfg.reps,
    client_processes: procs,
    command: `yes <4092 letters> | head -c ${n}`,
  });
  sc.notes.push(
    procs
      ? `Each client has its own HTTP/2 connection; the first runs the session in the bench process, the others attach from ${procs} client processes (as many applications would), all on the same 2 cores as the server, dockerd and the container; every client hashes what it gets.`
      : 'Each client has its own HTTP/2 connection; all clients live in the bench process and share the 2 cores with the server, dockerd and the container; every client hashes what it gets.',
  );
  if (cfg.s2DockerAttach)
    sc.notes.push(
      "docker attach × k: one container (log driver none) whose output waits for a file, k `docker attach --no-stdin` CLIs each piped to sha256sum, given 1 s to attach, then the file is made (docker exec touch) and the wall runs to the last client's last byte; dockerd's CPU is the engine's whole (other containers' work on this shared engine included).",
    );
  const { command } = yesCommand(seed, n);
  const variants = [...cfg.s2Clients.map(String), ...(cfg.s2DockerAttach ? cfg.s2Clients.map((k) => `docker:${k}`) : [])];
  const walls = new Map<string, number[]>(variants.map((v) => [v, []]));
  const cpu = new Map<string, CpuSample[]>(variants.map((v) => [v, []]));
  const meter = new CpuMeter(ctx.server.pid);
  const containers: string[] = [];
  await alternate(cfg.reps, variants, async (v) => {
    if (v.startsWith('docker:')) {
      const k = Number(v.slice(7));
      const spent = meter.start();
      try {
        const r = await dockerAttachFanOut(cfg.image, command, k, 1000);
        containers.push(r.containerId);
        const ok = r.sha256.filter((h) => h === want).length;
        sc.check('docker attach: every client sha256 matches', ok === k, `${k - ok} of ${k} clients wrong`);
        if (ok === k) {
          walls.get(v)!.push(r.wallMs);
          cpu.get(v)!.push(spent());
        }
        ctx.log(`  s2 docker attach × ${k}: ${r.wallMs.toFixed(0)} ms (${ok}/${k} ok); CPU s: dockerd ${cpu.get(v)!.at(-1)?.dockerd.toFixed(2)}`);
      } catch (e) {
        sc.check('docker attach: every client sha256 matches', false, errText(e));
      }
      return;
    }
    const k = Number(v);
    const conn = connect(ctx, true);
    let others: ClientProcesses | undefined;
    try {
      others = procs && k > 1 ? await ClientProcesses.start(ctx.server.address, k - 1, procs) : undefined;
    } catch (e) {
      conn.close();
      sc.check('client processes start', false, errText(e));
      return;
    }
    const conns = others ? [] : Array.from({ length: k - 1 }, () => connect(ctx, true));
    const spent = meter.start();
    try {
      const t0 = nowMs();
      const t0Epoch = performance.timeOrigin + t0;
      const first = new ExecClient(conn).run(cfg.image, { command });
      const ready = await first.ready;
      containers.push(ready.containerId);
      let workerCpu = 0;
      const attached = others
        ? others.attach(ready.sessionId).then(({ clients, cpuSeconds }) => {
            workerCpu = cpuSeconds;
            return clients.map((c) => {
              if (c.error) throw new Error(c.error);
              return { sha256: c.sha256, exitCode: c.exitCode, bytes: c.bytes, endMs: c.endEpochMs - t0Epoch };
            });
          })
        : Promise.all(conns.map((c) => drain(new ExecClient(c).attach({ sessionId: ready.sessionId }), t0, { hash: true })));
      const [mine, rest] = await Promise.allSettled([drain(first, t0, { hash: true }), attached]);
      const results = [
        mine,
        ...(rest.status === 'fulfilled' ? rest.value.map((r) => ({ status: 'fulfilled' as const, value: r })) : [rest]),
      ] as PromiseSettledResult<{ sha256?: string; exitCode?: number; bytes: number; endMs: number }>[];
      let ok = 0;
      let last = 0;
      for (const r of results) {
        if (r.status === 'fulfilled' && r.value.sha256 === want && r.value.exitCode === 0) ok++;
        if (r.status === 'fulfilled') last = Math.max(last, r.value.endMs);
      }
      const firstErr = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      const bad = results.find((r) => r.status === 'fulfilled' && r.value.sha256 !== want) as PromiseFulfilledResult<{ bytes: number }> | undefined;
      sc.check(
        'every client: sha256 matches, exit 0',
        ok === k,
        `${k - ok} of ${k} clients wrong: ${firstErr ? errText(firstErr.reason) : `bytes ${bad?.value.bytes}`}`,
      );
      if (ok === k) walls.get(v)!.push(last);
      await sleep(100);
      const c = spent();
      c.bench += workerCpu;
      if (ok === k) cpu.get(v)!.push(c);
      ctx.log(`  s2 ${k} clients: ${last.toFixed(0)} ms (${ok}/${k} ok); CPU s: server ${c.server.toFixed(2)} clients ${c.bench.toFixed(2)}`);
    } catch (e) {
      sc.check('every client: sha256 matches, exit 0', false, errText(e));
    } finally {
      conn.close();
      for (const c of conns) c.close();
      await others?.stop();
    }
  });
  removeContainers(containers);
  const base = cfg.s2Clients[0];
  const label = (k: number) => `${k} client${k === 1 ? '' : 's'}`;
  const dlabel = (k: number) => `docker attach × ${k}`;
  for (const k of cfg.s2Clients) sc.row('wall to last byte of last client', label(k), 'ms', walls.get(String(k))!, k === base ? undefined : label(base));
  if (cfg.s2DockerAttach)
    for (const k of cfg.s2Clients)
      sc.row('wall to last byte of last client', dlabel(k), 'ms', walls.get(`docker:${k}`)!, k === base ? undefined : dlabel(base));
  for (const k of cfg.s2Clients) {
    const w = walls.get(String(k))!;
    sc.row(
      'delivered (all clients)',
      label(k),
      'MB/s',
      w.map((ms) => (k * n) / 1e6 / (ms / 1000)),
    );
  }
  // CPU from /proc: the server's per client added, and the clients' (sha256 included).
  for (const k of cfg.s2Clients)
    sc.row(
      'server CPU per GiB of session output',
      label(k),
      's',
      cpu.get(String(k))!.map((c) => perGiB(c.server, n)),
    );
  const perExtra = (key: (k: number) => string, what: keyof CpuSample, rowLabel: (k: number) => string, metric: string, baseline?: (k: number) => string) => {
    const baseCpu = median(cpu.get(key(base))!.map((c) => c[what]));
    for (const k of cfg.s2Clients.filter((x) => x > base))
      sc.row(
        metric,
        rowLabel(k),
        's',
        cpu.get(key(k))!.map((c) => perGiB((c[what] - baseCpu) / (k - base), n)),
        baseline?.(k),
      );
  };
  perExtra(
    String,
    'server',
    (k) => `exec-stream server, ${label(k)}`,
    'CPU per extra client per GiB',
    cfg.s2DockerAttach ? (k) => `dockerd, ${dlabel(k)}` : undefined,
  );
  if (cfg.s2DockerAttach) {
    perExtra(
      (k) => `docker:${k}`,
      'dockerd',
      (k) => `dockerd, ${dlabel(k)}`,
      'CPU per extra client per GiB',
    );
    perExtra(
      (k) => `docker:${k}`,
      'children',
      (k) => `docker attach CLIs + sha256sum, ${dlabel(k)}`,
      'CPU per extra client per GiB',
    );
  }
  for (const k of cfg.s2Clients)
    sc.row(
      'client CPU per GiB delivered (ExecClient + sha256)',
      label(k),
      's',
      cpu.get(String(k))!.map((c) => perGiB(c.bench, k * n)),
    );
  sc.ratios();
  const r16 = sc.rows.find((r) => r.variant === '16 clients' && r.metric.startsWith('wall'));
  if (r16?.ratios.length) sc.goal(`16 clients ≤ 2× ${r16.ratios[0].to}`, r16.ratios[0].ratio, 2);
  const x16 = sc.rows.find((r) => r.variant === 'exec-stream server, 16 clients' && r.metric === 'CPU per extra client per GiB');
  if (x16?.ratios.length) sc.goal("server CPU per extra client ≤ dockerd's (docker attach × 16)", x16.ratios[0].ratio, 1);
  return sc.result();
}

/**
 * 3. A line with the container's clock every interval: delivery latency = receive time − write time.
 * busybox's date has no sub-second format, but `adjtimex` prints CLOCK_REALTIME in µs (reading it needs
 * no privilege) and, its stdout being a pipe, writes its whole report in one write() at exit. Containers
 * share the host kernel's clock, so that time is comparable with this process's realtime clock: the
 * harness checks this (a container's reading lies between two host readings taken around it).
 */
export async function latency(ctx: BenchContext): Promise<ScenarioResult> {
  const { cfg } = ctx;
  const count = Math.max(1, Math.round(cfg.s3DurationMs / cfg.s3IntervalMs));
  const script = 'i=0; while [ $i -lt "$0" ]; do adjtimex; usleep "$1"; i=$((i+1)); done';
  const command = ['sh', '-c', script, String(count), String(cfg.s3IntervalMs * 1000)];
  const sc = new Scenario(3, 'Delivery latency', {
    lines: count,
    interval_ms: cfg.s3IntervalMs,
    reps: cfg.s3Reps,
    command: `${count} × (adjtimex; usleep ${cfg.s3IntervalMs * 1000})`,
  });

  // Clock check: one reading from inside a container, bracketed by host readings.
  const before = realtimeMs();
  const probe = await runCli('docker', ['run', '--rm', '--network', 'none', cfg.image, 'adjtimex'], { text: true });
  const after = realtimeMs();
  const probeMs = parseAdjtimex(probe.text ?? '')[0];
  sc.check(
    'container clock = host clock',
    probeMs !== undefined && probeMs >= before - 1 && probeMs <= after + 1,
    `container ${probeMs} not within host [${before}, ${after}]`,
  );

  const lat: Record<string, number[]> = { es: [], def: [], none: [] };
  const conn = connect(ctx);
  const client = new ExecClient(conn);
  const containers: string[] = [];
  try {
    await alternate(cfg.s3Reps, ['es', 'def', 'none'] as const, async (v) => {
      const parser = new AdjtimexStream((writeMs, recvMs) => lat[v].push(recvMs - writeMs));
      const onData = (b: Buffer) => parser.push(b.toString('latin1'), realtimeMs());
      const had = lat[v].length;
      if (v === 'es') {
        const s = client.run(cfg.image, { command });
        s.ready.then((r) => containers.push(r.containerId)).catch(() => undefined);
        try {
          await drain(s, nowMs(), { onData });
        } catch (e) {
          sc.check('exec-stream: every line', false, errText(e));
        }
      } else {
        await dockerRun(cfg.image, command, v === 'def' ? 'default' : 'none', { onData });
      }
      const got = lat[v].length - had;
      sc.check(`${v === 'es' ? 'exec-stream' : 'docker run'}: every line`, got === count, `${got} of ${count} lines`);
      ctx.log(`  s3 ${v}: p50 ${percentile(lat[v], 50).toFixed(2)} ms p99 ${percentile(lat[v], 99).toFixed(2)} ms (${got} lines)`);
    });
  } finally {
    conn.close();
    removeContainers(containers);
  }
  const names = { es: 'exec-stream', def: 'docker run (json-file)', none: 'docker run --log-driver none' };
  for (const [p, label] of [
    [50, 'p50'],
    [99, 'p99'],
    [100, 'max'],
  ] as const) {
    for (const v of ['es', 'def', 'none'] as const) {
      sc.row(`latency ${label}`, names[v], 'ms', [percentile(lat[v], p)], v === 'es' ? names.def : undefined);
    }
  }
  sc.ratios();
  sc.goal('p99 ≤ 5 ms', percentile(lat.es, 99), 5);
  sc.notes.push(
    `samples: exec-stream ${lat.es.length}, docker run ${lat.def.length}, docker run --log-driver none ${lat.none.length}; min latency seen ${Math.min(...lat.es).toFixed(3)} ms (≥ 0 confirms the clocks agree)`,
  );
  return sc.result();
}

export function parseAdjtimex(text: string): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(/time\.tv_sec:\s*(\d+)\s+time\.tv_usec:\s*(\d+)/g)) out.push(Number(m[1]) * 1000 + Number(m[2]) / 1000);
  return out;
}

/** Incremental parser: calls back once per complete adjtimex report with (write ms, receive ms). */
export class AdjtimexStream {
  private buf = '';
  constructor(private readonly onRecord: (writeMs: number, recvMs: number) => void) {}
  push(text: string, recvMs: number): void {
    this.buf += text;
    const re = /time\.tv_sec:\s*(\d+)\s+time\.tv_usec:\s*(\d+)\n/g;
    let end = 0;
    for (let m = re.exec(this.buf); m; m = re.exec(this.buf)) {
      this.onRecord(Number(m[1]) * 1000 + Number(m[2]) / 1000, recvMs);
      end = re.lastIndex;
    }
    if (end) this.buf = this.buf.slice(end);
    if (this.buf.length > 1 << 16) this.buf = this.buf.slice(-4096);
  }
}

/**
 * 4. N bytes flow; the only client reads nothing for a while, then drains. Against: the same run with
 * no client at all (the starter leaves at `ready`). Container wall comes from Docker's own
 * StartedAt/FinishedAt; server RSS is the child's peak during the run.
 */
export async function stalledClient(ctx: BenchContext): Promise<ScenarioResult> {
  const { cfg, server } = ctx;
  const n = cfg.s4Bytes;
  const seed = 4;
  const want = expectedSha256(seed, n);
  const { command } = yesCommand(seed, n);
  const sc = new Scenario(4, 'Stalled client', { bytes: fmtBytes(n), stall_ms: cfg.s4StallMs, reps: cfg.reps, command: `yes <4092 letters> | head -c ${n}` });
  const wall: Record<string, number[]> = { stalled: [], none: [] };
  const rss: Record<string, number[]> = { stalled: [], none: [] };
  const atPeak: Record<string, (MemoryBreakdown | undefined)[]> = { stalled: [], none: [] };
  const drainMs: number[] = [];
  const conn = connect(ctx);
  const client = new ExecClient(conn);
  const containers: string[] = [];
  const idle = (await server.memory())?.now;
  try {
    await alternate(cfg.reps, ['stalled', 'none'] as const, async (v) => {
      await server.memory(); // a new peak from here
      const peak = new PeakRss(server.pid);
      try {
        const t0 = nowMs();
        const s = client.run(cfg.image, { command });
        const { containerId } = await s.ready;
        containers.push(containerId);
        if (v === 'none') {
          s.cancel();
          dockerSync(['wait', containerId]);
          // Let the server finish recording what Docker already sent.
          await sleep(200);
        } else {
          await sleep(cfg.s4StallMs);
          const t1 = nowMs();
          const d = await drain(s, t0, { hash: true });
          drainMs.push(nowMs() - t1);
          sc.check('stalled client: sha256 matches, exit 0', d.sha256 === want && d.exitCode === 0, `${d.bytes} bytes, exit ${d.exitCode}`);
        }
        wall[v].push(containerWallMs(containerId));
      } catch (e) {
        sc.check(`${v}: run completes`, false, errText(e));
      } finally {
        rss[v].push(peak.stop());
        atPeak[v].push((await server.memory())?.peak);
      }
      ctx.log(`  s4 ${v}: container ${wall[v].at(-1)?.toFixed(0)} ms, server peak RSS ${rss[v].at(-1)?.toFixed(0)} MiB`);
    });
  } finally {
    conn.close();
    removeContainers(containers);
  }
  const w = sc.row('container wall', 'stalled client', 'ms', wall.stalled, 'no client');
  sc.row('container wall', 'no client', 'ms', wall.none);
  const r = sc.row('server peak RSS', 'stalled client', 'MiB', rss.stalled, 'no client');
  sc.row('server peak RSS', 'no client', 'MiB', rss.none);
  sc.row('stalled client drain after the stall', 'stalled client', 'ms', drainMs);
  memoryRows(sc, 'server idle, before this scenario (after the scenarios run before it)', 'server', [idle]);
  memoryRows(sc, 'server at peak RSS', 'stalled client', atPeak.stalled);
  memoryRows(sc, 'server at peak RSS', 'no client', atPeak.none);
  sc.ratios();
  sc.goal('container wall ≤ 1.1× no client', w.ratios[0].ratio, 1.1);
  sc.goal('server peak RSS ≤ 150 MiB', r.summary.max, 150);
  if (idle) sc.goal('server idle RSS before this scenario ≤ 80 MiB', idle.rss, 80);
  return sc.result();
}

/** 5. Start → first stdout byte, against docker run → first byte. */
export async function startLatency(ctx: BenchContext): Promise<ScenarioResult> {
  const { cfg } = ctx;
  const sc = new Scenario(5, 'Start latency', { reps: cfg.s5Reps, command: 'echo x' });
  const first: Record<string, number[]> = { es: [], ready: [], def: [], none: [] };
  const conn = connect(ctx);
  const client = new ExecClient(conn);
  const containers: string[] = [];
  const command = ['echo', 'x'];
  try {
    await alternate(cfg.s5Reps, ['es', 'def', 'none'] as const, async (v) => {
      if (v === 'es') {
        const t0 = nowMs();
        const s = client.run(cfg.image, { command });
        s.ready.then((r) => (first.ready.push(nowMs() - t0), containers.push(r.containerId))).catch(() => undefined);
        try {
          const d = await drain(s, t0);
          first.es.push(d.firstByteMs);
          sc.check('exec-stream: output, exit 0', d.bytes === 2 && d.exitCode === 0, `${d.bytes} bytes exit ${d.exitCode}`);
        } catch (e) {
          sc.check('exec-stream: output, exit 0', false, errText(e));
        }
      } else {
        const r = await dockerRun(cfg.image, command, v === 'def' ? 'default' : 'none');
        first[v].push(r.firstByteMs);
        sc.check('docker run: output', r.bytes === 2, `${r.bytes} bytes ${r.stderr}`);
      }
    });
  } finally {
    conn.close();
    removeContainers(containers);
  }
  sc.row('Start → first byte', 'exec-stream', 'ms', first.es, 'docker run (json-file)');
  sc.row('Start → first byte', 'docker run (json-file)', 'ms', first.def);
  sc.row('Start → first byte', 'docker run --log-driver none', 'ms', first.none);
  sc.row('Start → ready', 'exec-stream', 'ms', first.ready);
  return sc.result();
}

/** 6. k sessions × N bytes at once (one connection, as one application would): total wall, errors, hashes. */
export async function concurrency(ctx: BenchContext): Promise<ScenarioResult> {
  const { cfg } = ctx;
  const k = cfg.s6Sessions;
  const n = cfg.s6Bytes;
  const sc = new Scenario(6, 'Concurrency', { sessions: k, bytes_each: fmtBytes(n), reps: cfg.s6Reps });
  const wall: Record<string, number[]> = { es: [], def: [] };
  const errors: Record<string, number[]> = { es: [], def: [] };
  const seeds = Array.from({ length: k }, (_, i) => 1000 + i);
  const wants = seeds.map((s) => expectedSha256(s, n));
  const containers: string[] = [];
  const rss: number[] = [];
  const atPeak: (MemoryBreakdown | undefined)[] = [];
  await alternate(cfg.s6Reps, ['es', 'def'] as const, async (v) => {
    const t0 = nowMs();
    let bad = 0;
    let firstErr = '';
    if (v === 'es') {
      await ctx.server.memory(); // a new peak from here
      const peak = new PeakRss(ctx.server.pid);
      const conn = connect(ctx);
      const client = new ExecClient(conn);
      const results = await Promise.allSettled(
        seeds.map(async (seed, i) => {
          const s = client.run(cfg.image, { command: yesCommand(seed, n).command });
          s.ready.then((r) => containers.push(r.containerId)).catch(() => undefined);
          const d = await drain(s, t0, { hash: true });
          if (d.sha256 !== wants[i] || d.exitCode !== 0) throw new Error(`session ${i}: ${d.bytes} bytes, exit ${d.exitCode}, sha256 mismatch`);
        }),
      );
      conn.close();
      rss.push(peak.stop());
      atPeak.push((await ctx.server.memory())?.peak);
      for (const r of results) {
        if (r.status === 'rejected') {
          bad++;
          firstErr ||= errText(r.reason);
        }
      }
    } else {
      const results = await Promise.all(seeds.map((seed) => dockerRun(cfg.image, yesCommand(seed, n).command, 'default', { hash: true })));
      results.forEach((r, i) => {
        if (r.sha256 !== wants[i] || r.exitCode !== 0) {
          bad++;
          firstErr ||= `${r.bytes} bytes exit ${r.exitCode} ${r.stderr.trim()}`;
        }
      });
    }
    const ms = nowMs() - t0;
    wall[v].push(ms);
    errors[v].push(bad);
    sc.check(`${v === 'es' ? 'exec-stream' : 'docker run'}: every stream's sha256, no errors`, bad === 0, `${bad} of ${k} failed: ${firstErr}`);
    ctx.log(`  s6 ${v}: ${ms.toFixed(0)} ms, ${bad} errors`);
  });
  removeContainers(containers);
  sc.row('total wall', 'exec-stream', 'ms', wall.es, 'docker run (json-file)');
  sc.row('total wall', 'docker run (json-file)', 'ms', wall.def);
  sc.row('errors', 'exec-stream', 'count', errors.es);
  sc.row('errors', 'docker run (json-file)', 'count', errors.def);
  const r = sc.row('server peak RSS', 'exec-stream', 'MiB', rss);
  memoryRows(sc, 'server at peak RSS', 'exec-stream', atPeak);
  sc.goal(`server peak RSS ≤ 200 MiB with ${k} sessions`, r.summary.max, 200);
  return sc.result();
}

/**
 * 7. ContainerStatus with resource usage: latency of sequential calls while the container writes and a
 * client drains. Against: Docker's own one-shot stats call (GET /containers/{id}/stats?stream=false&one-shot=true).
 */
export async function containerStatus(ctx: BenchContext): Promise<ScenarioResult> {
  const { cfg } = ctx;
  const sc = new Scenario(7, 'ContainerStatus with resource usage', { calls: cfg.s7Calls });
  const conn = connect(ctx);
  const client = new ExecClient(conn);
  const command = ['sh', '-c', 'while :; do head -c 1048576 /dev/zero; usleep 20000; done'];
  const s = client.run(cfg.image, { command });
  let containerId = '';
  const lat: Record<string, number[]> = { rpc: [], docker: [] };
  const draining = drain(s, nowMs()).catch(() => undefined);
  try {
    containerId = (await s.ready).containerId;
    const raw = conn.getClient();
    const call = () =>
      new Promise<{ ok: boolean; code?: number; msg?: string; body?: Record<string, unknown> }>((resolve) => {
        (raw.ContainerStatus as (req: object, md: unknown, cb: (err: ServiceError | null, res?: Record<string, unknown>) => void) => void).call(
          raw,
          { container_id: containerId, include_resource_usage: true },
          conn.getMetadata(),
          (err, res) => resolve(err ? { ok: false, code: err.code, msg: err.details || err.message } : { ok: true, body: res }),
        );
      });
    const probe = await call();
    sc.check('first call succeeds', probe.ok, `code ${probe.code}: ${probe.msg}`);
    sc.check('resource_usage present', !!probe.body?.resource_usage, JSON.stringify(probe.body));
    let failed = 0;
    await alternate(1, ['rpc', 'docker'] as const, async (v) => {
      for (let i = 0; i < cfg.s7Calls; i++) {
        const t0 = nowMs();
        if (v === 'rpc') {
          const r = await call();
          if (!r.ok) failed++;
        } else {
          await dockerApiGet(`/containers/${containerId}/stats?stream=false&one-shot=true`);
        }
        lat[v].push(nowMs() - t0);
      }
    });
    sc.check('every call succeeds', failed === 0, `${failed} of ${cfg.s7Calls} failed`);
  } catch (e) {
    sc.check('scenario runs', false, errText(e));
  } finally {
    removeContainers([containerId]);
    await draining;
    conn.close();
  }
  for (const [p, label] of [
    [50, 'median'],
    [99, 'p99'],
  ] as const) {
    sc.row(`call latency ${label}`, 'ContainerStatus', 'ms', [percentile(lat.rpc, p)], 'docker stats one-shot');
    sc.row(`call latency ${label}`, 'docker stats one-shot', 'ms', [percentile(lat.docker, p)]);
  }
  return sc.result();
}

function dockerApiGet(path: string): Promise<string> {
  const host = process.env.DOCKER_HOST;
  const socketPath = host?.startsWith('unix://') ? host.slice(7) : '/var/run/docker.sock';
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (b) => (body += b));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`docker ${path}: ${res.statusCode} ${body}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

export const SCENARIOS: Record<number, (ctx: BenchContext) => Promise<ScenarioResult>> = {
  1: throughput,
  2: fanOut,
  3: latency,
  4: stalledClient,
  5: startLatency,
  6: concurrency,
  7: containerStatus,
};
