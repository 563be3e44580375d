import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { status as Code, type ServiceError } from '@grpc/grpc-js';
import { ControlClient, ExecClient, GRPCConnectionManager, type ExecSession } from '@exec-stream/client';
import { fmtBytes } from './config';
import { perGiB, procCpuSeconds } from './cpu';
import { expectedSha256, yesCommand, zeroCommand } from './payload';
import { PeakRss, freePort, readMemory, repoRoot, type ServerHandle } from './server-process';
import { Scenario, alternate, drain, errText, sleep, type BenchContext, type ScenarioResult } from './scenarios';

const execFileAsync = promisify(execFile);
const nowMs = () => performance.now();

/**
 * Replica ids (the first label of their SRV targets); each has its own engine, `bench-fwd-<id>`
 * (scripts/docker-engine.sh), unless BENCH_S10_ENGINES=shared: then both use this machine's engine,
 * and the ids (and the dnsmasq's name) carry this process's pid, so that runs side by side do not meet.
 */
const A_ID = 'bench-a';
const B_ID = 'bench-b';
const engineName = (id: string) => `bench-fwd-${id}`;
/** The dnsmasq (scripts/dns-server.sh NAME) serving the pair's headless-Service records. */
const DNS_NAME = 'bench-fwd';
const DOMAIN = 'exec-headless.bench.test';
const SRV = `_grpc._tcp.${DOMAIN}`;

interface Pair {
  a: ServerHandle;
  b: ServerHandle;
  /** Replica ids of A and B. */
  ids: { a: string; b: string };
  /** Replica id → DOCKER_HOST of its engine. */
  hosts: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * 10. Through a forwarding replica: two replicas A and B, each beside its own Docker engine, finding
 * each other through a loopback dnsmasq (as test/support/cluster.ts sets them up; that helper resolves
 * scripts/ from test/, so the built bench cannot import it). Every run is on A; alternating, it is read
 * on A and through B, which forwards the call. Scenario 1's stream (attached from the first byte, so
 * both sides replay alike; the run read by its own client as a second baseline), scenario 2's fan-out
 * (the runner on A, the other clients attached on A or through B), B's RSS while a client behind it
 * stalls for a whole run, and ContainerStatus through B for A's containers: the first call (B asks its
 * peers) and later ones (owner remembered), against the same call on A.
 */
export async function throughForwarder(ctx: BenchContext): Promise<ScenarioResult> {
  const { cfg } = ctx;
  const n1 = cfg.s1Bytes;
  const n2 = cfg.s2Bytes;
  const k = cfg.s10Clients;
  const nStall = cfg.s10StallBytes;
  const sc = new Scenario(10, 'Through a forwarding replica', {
    s1_bytes: fmtBytes(n1),
    s2_bytes: fmtBytes(n2),
    s2_clients: k,
    stall_bytes: fmtBytes(nStall),
    lookups: cfg.s10Lookups,
    calls: cfg.s7Calls,
    reps: cfg.reps,
  });
  if (!ctx.spawnServer) {
    sc.na = 'needs a server spawner';
    return sc.result();
  }
  sc.notes.push('Two replicas, each with its own dockerd, on the same cores as the bench; B reaches A over one loopback HTTP/2 channel.');
  let pair: Pair | undefined;
  const conns: GRPCConnectionManager[] = [];
  const connect = (s: ServerHandle) => {
    const c = new GRPCConnectionManager({ address: s.address, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } });
    conns.push(c);
    return c;
  };
  try {
    const t0 = nowMs();
    pair = await startPair(ctx, ctx.spawnServer);
    ctx.log(`  s10 replicas up in ${((nowMs() - t0) / 1000).toFixed(1)} s: A pid ${pair.a.pid}, B pid ${pair.b.pid}`);
    const p = pair;
    const onA = new ExecClient(connect(p.a));
    const viaB = new ExecClient(connect(p.b));
    await warmUp(sc, onA, viaB, new ControlClient(connect(p.b)), cfg.image);
    // First, while B's heap is still the size of a fresh replica's: the bulk runs after it grow it.
    await stalledBehind(ctx, sc, p, onA, viaB, nStall);
    await streamOne(ctx, sc, p, onA, viaB);
    await fanOutThrough(ctx, sc, p, connect);
    await ownerLookup(ctx, sc, p, new ControlClient(connect(p.a)), new ControlClient(connect(p.b)), onA);
  } catch (e) {
    sc.check('scenario runs', false, errText(e));
  } finally {
    for (const c of conns) c.close();
    await pair?.stop();
  }
  sc.ratios();
  const wall1 = sc.rows.find((r) => r.metric === 'S1 wall' && r.variant === 'attach through B');
  if (wall1) sc.goal('S1 throughput through B ≥ 0.8× attach on A (wall ≤ 1.25×)', wall1.ratios[0]?.ratio ?? NaN, 1.25);
  const wall2 = sc.rows.find((r) => r.metric === 'S2 wall to last byte of last client' && r.variant.includes('through B'));
  if (wall2) sc.goal(`S2 (${k} clients) throughput through B ≥ 0.8× on A (wall ≤ 1.25×)`, wall2.ratios[0]?.ratio ?? NaN, 1.25);
  const peak = sc.rows.find((r) => r.metric === "B's peak RSS" && r.variant.startsWith('stalled'));
  if (peak) sc.goal("B's peak RSS under a stalled client ≤ 1.1× under a reading one (the stall holds nothing more)", peak.ratios[0]?.ratio ?? NaN, 1.1);
  return sc.result();
}

/** Engines, the two services (spawned like the bench's own) and the dnsmasq; everything stopped again on a failure. */
async function startPair(ctx: BenchContext, spawnServer: NonNullable<BenchContext['spawnServer']>): Promise<Pair> {
  const root = repoRoot();
  const script = async (name: string, ...args: string[]) =>
    (await execFileAsync('bash', [join(root, 'scripts', name), ...args], { encoding: 'utf8' })).stdout.trim();
  const confDir = mkdtempSync(join(tmpdir(), 'exec-stream-bench-dns-'));
  const conf = join(confDir, 'dnsmasq.conf');
  const shared = ctx.cfg.s10Engines === 'shared';
  const tag = shared ? `-${process.pid}` : '';
  const ids = { a: A_ID + tag, b: B_ID + tag };
  const dnsName = DNS_NAME + tag;
  const hosts: Record<string, string> = {};
  const servers: Record<string, ServerHandle> = {};
  let dnsStarted = false;
  const stop = async () => {
    for (const s of Object.values(servers)) await s.stop().catch(() => undefined);
    if (dnsStarted) await script('dns-server.sh', dnsName, 'stop').catch(() => undefined);
    await Promise.all(
      Object.entries(hosts).map(async ([id, host]) => {
        await removeReplicaContainers(host, id).catch(() => undefined);
        if (!shared) {
          await script('docker-engine.sh', engineName(id), 'stop').catch((e: unknown) => ctx.log(`  s10 engine ${engineName(id)} stop: ${errText(e)}`));
        }
      }),
    );
    rmSync(confDir, { recursive: true, force: true });
  };
  try {
    await Promise.all(
      [ids.a, ids.b].map(async (id) => {
        if (shared) {
          hosts[id] = process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
          return;
        }
        hosts[id] = await script('docker-engine.sh', engineName(id), 'socket');
        await script('docker-engine.sh', engineName(id), 'start');
        await removeReplicaContainers(hosts[id], id); // a killed earlier bench's leftovers would be re-adopted
      }),
    );
    // Up before the services with no records (an immediate answer), then with theirs once their ports are known.
    const dnsPort = await freePort();
    writeFileSync(conf, '');
    await script('dns-server.sh', dnsName, 'start', String(dnsPort), conf);
    dnsStarted = true;
    await Promise.all(
      [ids.a, ids.b].map(async (id) => {
        servers[id] = await spawnServer({
          EXEC_REPLICA_ID: id,
          DOCKER_HOST: hosts[id],
          EXEC_PEERS_DNS: SRV,
          EXEC_DNS_SERVER: `127.0.0.1:${dnsPort}`,
          EXEC_PEERS_REFRESH_MS: '500',
        });
      }),
    );
    const lines = Object.entries(servers).flatMap(([id, s]) => [
      `srv-host=${SRV},${id}.${DOMAIN},${s.address.split(':')[1]},0,0`,
      `host-record=${id}.${DOMAIN},127.0.0.1`,
    ]);
    writeFileSync(conf, lines.join('\n') + '\n');
    await script('dns-server.sh', dnsName, 'start', String(dnsPort), conf);
    await waitUntilKnown(servers[ids.b], ids.a);
  } catch (e) {
    await stop();
    throw e;
  }
  return { a: servers[ids.a], b: servers[ids.b], ids, hosts, stop };
}

/** Until `via` forwards to replica `id`: an unknown session of `id` is NOT_FOUND (from it), not UNAVAILABLE. */
async function waitUntilKnown(via: ServerHandle, id: string): Promise<void> {
  const conn = new GRPCConnectionManager({ address: via.address });
  const deadline = Date.now() + 30_000;
  try {
    for (;;) {
      const code = await new ExecClient(conn)
        .attach({ sessionId: `${id}.${randomUUID()}` })
        .collect()
        .then(
          () => Code.OK,
          (e: unknown) => (e as ServiceError).code,
        );
      if (code === Code.NOT_FOUND) return;
      if (Date.now() > deadline) throw new Error(`replica ${via.address} does not reach ${id} (last code ${code})`);
      await sleep(200);
    }
  } finally {
    conn.close();
  }
}

async function removeReplicaContainers(host: string, id: string): Promise<void> {
  const { stdout } = await execFileAsync('docker', ['-H', host, 'ps', '-aq', '--filter', `label=exec-stream.replica=${id}`], { encoding: 'utf8' });
  const ids = stdout.split('\n').filter(Boolean);
  if (ids.length) await execFileAsync('docker', ['-H', host, 'rm', '-f', ...ids]);
}

/** A run on A (the engine's first container), read through B; then A's container looked up through B once. */
async function warmUp(sc: Scenario, onA: ExecClient, viaB: ExecClient, controlB: ControlClient, image: string): Promise<void> {
  const s = onA.run(image, { command: zeroCommand(64 * 1024) });
  const ready = await s.ready;
  const [own, through] = await Promise.all([drain(s, nowMs()), drain(viaB.attach({ sessionId: ready.sessionId }), nowMs())]);
  sc.check('warm-up: every byte on A and through B', own.bytes === 64 * 1024 && through.bytes === 64 * 1024, `${own.bytes} / ${through.bytes} bytes`);
  await controlB.status(ready.containerId);
}

/** Starts scenario 1's stream on A; the reader is its own client, or (the runner leaving at ready) an attach on A or through B. */
async function streamOne(ctx: BenchContext, sc: Scenario, p: Pair, onA: ExecClient, viaB: ExecClient): Promise<void> {
  const { cfg } = ctx;
  const n = cfg.s1Bytes;
  const variants = { run: 'run on A, read by its client', attachA: 'attach on A', attachB: 'attach through B' } as const;
  type V = keyof typeof variants;
  const walls: Record<V, number[]> = { run: [], attachA: [], attachB: [] };
  const cpuA: Record<V, number[]> = { run: [], attachA: [], attachB: [] };
  const cpuB: number[] = [];
  await alternate(cfg.reps, ['attachA', 'attachB', 'run'] as V[], async (v) => {
    const a0 = procCpuSeconds(p.a.pid);
    const b0 = procCpuSeconds(p.b.pid);
    try {
      const t0 = nowMs();
      const s = onA.run(cfg.image, { command: zeroCommand(n) });
      let reader: ExecSession = s;
      if (v !== 'run') {
        const { sessionId } = await s.ready;
        s.exit.catch(() => undefined);
        s.cancel();
        reader = (v === 'attachA' ? onA : viaB).attach({ sessionId });
      }
      const d = await drain(reader, t0);
      sc.check(`S1 ${variants[v]}: every byte, exit 0`, d.bytes === n && d.exitCode === 0, `got ${d.bytes} bytes, exit ${d.exitCode}`);
      if (d.bytes === n) walls[v].push(d.endMs);
    } catch (e) {
      sc.check(`S1 ${variants[v]}: every byte, exit 0`, false, errText(e));
    }
    await sleep(100);
    cpuA[v].push(procCpuSeconds(p.a.pid) - a0);
    if (v === 'attachB') cpuB.push(procCpuSeconds(p.b.pid) - b0);
    ctx.log(`  s10 S1 ${v}: ${walls[v].at(-1)?.toFixed(0)} ms; CPU s: A ${cpuA[v].at(-1)?.toFixed(2)} B ${(procCpuSeconds(p.b.pid) - b0).toFixed(2)}`);
  });
  sc.row('S1 wall', variants.attachB, 'ms', walls.attachB, [variants.attachA, variants.run]);
  sc.row('S1 wall', variants.attachA, 'ms', walls.attachA);
  sc.row('S1 wall', variants.run, 'ms', walls.run);
  for (const v of ['attachB', 'attachA', 'run'] as V[])
    sc.row(
      'S1 throughput',
      variants[v],
      'MB/s',
      walls[v].map((w) => n / 1e6 / (w / 1000)),
      v === 'attachB' ? [variants.attachA, variants.run] : undefined,
    );
  sc.row(
    'S1 CPU per GiB',
    'B (forwarder), attach through B',
    's',
    cpuB.map((c) => perGiB(c, n)),
  );
  for (const v of ['attachB', 'attachA', 'run'] as V[])
    sc.row(
      'S1 CPU per GiB',
      `A (owner), ${variants[v]}`,
      's',
      cpuA[v].map((c) => perGiB(c, n)),
    );
}

/** Scenario 2 on A: its runner reads on A; the k−1 others attach on A, or through B (each client its own connection). */
async function fanOutThrough(ctx: BenchContext, sc: Scenario, p: Pair, connect: (s: ServerHandle) => GRPCConnectionManager): Promise<void> {
  const { cfg } = ctx;
  const n = cfg.s2Bytes;
  const k = cfg.s10Clients;
  const seed = 10;
  const want = expectedSha256(seed, n);
  const { command } = yesCommand(seed, n);
  const label = { direct: `${k} clients on A`, through: `runner on A, ${k - 1} through B` };
  const walls: Record<'direct' | 'through', number[]> = { direct: [], through: [] };
  await alternate(cfg.reps, ['direct', 'through'] as const, async (v) => {
    const runner = connect(p.a);
    const others = Array.from({ length: k - 1 }, () => connect(v === 'direct' ? p.a : p.b));
    try {
      const t0 = nowMs();
      const first = new ExecClient(runner).run(cfg.image, { command });
      const { sessionId } = await first.ready;
      const sessions = [first, ...others.map((c) => new ExecClient(c).attach({ sessionId }))];
      const results = await Promise.allSettled(sessions.map((s) => drain(s, t0, { hash: true })));
      const ok = results.filter((r) => r.status === 'fulfilled' && r.value.sha256 === want && r.value.exitCode === 0).length;
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      sc.check(`S2 ${label[v]}: every client's sha256, exit 0`, ok === k, `${k - ok} of ${k} wrong${failure ? `: ${errText(failure.reason)}` : ''}`);
      if (ok === k) walls[v].push(Math.max(...results.map((r) => (r.status === 'fulfilled' ? r.value.endMs : 0))));
    } catch (e) {
      sc.check(`S2 ${label[v]}: every client's sha256, exit 0`, false, errText(e));
    } finally {
      runner.close();
      for (const c of others) c.close();
    }
    ctx.log(`  s10 S2 ${v}: ${walls[v].at(-1)?.toFixed(0)} ms`);
    await sleep(100);
  });
  sc.row('S2 wall to last byte of last client', label.through, 'ms', walls.through, label.direct);
  sc.row('S2 wall to last byte of last client', label.direct, 'ms', walls.direct);
  sc.row(
    'S2 delivered (all clients)',
    label.through,
    'MB/s',
    walls.through.map((ms) => (k * n) / 1e6 / (ms / 1000)),
    label.direct,
  );
  sc.row(
    'S2 delivered (all clients)',
    label.direct,
    'MB/s',
    walls.direct.map((ms) => (k * n) / 1e6 / (ms / 1000)),
  );
}

/**
 * A run of `n` bytes on A, its runner reading at once; a client attached through B from the start either
 * reads one piece and then nothing until the run is over (stalled), or reads along (reading). B's RSS
 * (VmRSS every 50 ms and VmHWM) over the run, less its RSS before; the stalled client then reads the rest.
 */
async function stalledBehind(ctx: BenchContext, sc: Scenario, p: Pair, onA: ExecClient, viaB: ExecClient, n: number): Promise<void> {
  const { cfg } = ctx;
  const seed = 11;
  const want = expectedSha256(seed, n);
  const { command } = yesCommand(seed, n);
  const label = { stalled: 'stalled client through B', reading: 'reading client through B' };
  const grown: Record<'stalled' | 'reading', number[]> = { stalled: [], reading: [] };
  const peaks: Record<'stalled' | 'reading', number[]> = { stalled: [], reading: [] };
  const runWall: Record<'stalled' | 'reading', number[]> = { stalled: [], reading: [] };
  const before: number[] = [];
  await alternate(cfg.reps, ['stalled', 'reading'] as const, async (v) => {
    await sleep(200);
    const rss0 = (readMemory(p.b.pid)?.rss ?? NaN) / 1024;
    const peak = new PeakRss(p.b.pid);
    let stopped = false;
    try {
      const t0 = nowMs();
      const run = onA.run(cfg.image, { command });
      const { sessionId } = await run.ready;
      const through = viaB.attach({ sessionId });
      if (v === 'reading') {
        const [own, behind] = await Promise.all([drain(run, t0, { hash: true }), drain(through, t0, { hash: true })]);
        sc.check(
          'stall: the run on A and the client through B get every byte',
          own.sha256 === want && behind.sha256 === want,
          `${own.bytes} / ${behind.bytes} bytes`,
        );
        runWall[v].push(own.endMs);
      } else {
        const pieces = through.output();
        const first = await pieces.next();
        const own = await drain(run, t0, { hash: true });
        runWall[v].push(own.endMs);
        await sleep(500); // what A sends after its own client's last byte reaches B
        peaks[v].push(peak.stop());
        stopped = true;
        const t1 = nowMs();
        let bytes = first.done ? 0 : first.value.data.length;
        const h = createHash('sha256');
        if (!first.done) h.update(first.value.data);
        for await (const piece of pieces) {
          if (piece.stream !== 'stdout') continue;
          bytes += piece.data.length;
          h.update(piece.data);
        }
        const exit = await through.exit;
        const sha = h.digest('hex');
        sc.check(
          'stall: the run on A and the stalled client through B get every byte',
          own.sha256 === want && sha === want && exit === 0,
          `${own.bytes} / ${bytes} bytes, exit ${exit}`,
        );
        ctx.log(`  s10 stalled client drained ${fmtBytes(bytes)} in ${(nowMs() - t1).toFixed(0)} ms`);
      }
    } catch (e) {
      sc.check(`stall (${v}): runs`, false, errText(e));
    } finally {
      if (!stopped) peaks[v].push(peak.stop());
    }
    grown[v].push(peaks[v].at(-1)! - rss0);
    before.push(rss0);
    ctx.log(`  s10 ${v}: B RSS before ${rss0.toFixed(0)} MiB, growth ${grown[v].at(-1)?.toFixed(1)} MiB; run on A ${runWall[v].at(-1)?.toFixed(0)} ms`);
  });
  sc.row("B's RSS growth (peak − before)", label.stalled, 'MiB', grown.stalled, label.reading);
  sc.row("B's RSS growth (peak − before)", label.reading, 'MiB', grown.reading);
  sc.row("B's peak RSS", label.stalled, 'MiB', peaks.stalled, label.reading);
  sc.row("B's peak RSS", label.reading, 'MiB', peaks.reading);
  sc.row("B's RSS before the run", 'both', 'MiB', before);
  sc.row("run on A, its own client's last byte", label.stalled, 'ms', runWall.stalled, label.reading);
  sc.row("run on A, its own client's last byte", label.reading, 'ms', runWall.reading);
}

/** ContainerStatus of A's containers: through B the first time (B asks A), through B again (remembered), and on A. */
async function ownerLookup(ctx: BenchContext, sc: Scenario, p: Pair, controlA: ControlClient, controlB: ControlClient, onA: ExecClient): Promise<void> {
  const { cfg } = ctx;
  const ids: string[] = [];
  for (let i = 0; i < cfg.s10Lookups; i++) {
    const s = onA.run(cfg.image, { command: ['sleep', '600'] });
    ids.push((await s.ready).containerId);
    s.exit.catch(() => undefined);
    s.cancel();
  }
  const lat: Record<'first' | 'cached' | 'direct', number[]> = { first: [], cached: [], direct: [] };
  const call = async (v: keyof typeof lat, id: string) => {
    const t0 = nowMs();
    try {
      const st = await (v === 'direct' ? controlA : controlB).status(id);
      lat[v].push(nowMs() - t0);
      sc.check('owner lookup: every ContainerStatus says running', st.status === 'running', `${v}: ${st.status}`);
    } catch (e) {
      sc.check('owner lookup: every ContainerStatus says running', false, `${v}: ${errText(e)}`);
    }
  };
  for (const id of ids) await call('first', id);
  await alternate(1, ['cached', 'direct'] as const, async (v) => {
    for (let i = 0; i < cfg.s7Calls; i++) await call(v, ids[i % ids.length]);
  });
  await removeReplicaContainers(p.hosts[p.ids.a], p.ids.a).catch(() => undefined);
  ctx.log(`  s10 lookups: first ${lat.first.map((x) => x.toFixed(1)).join(' ')} ms`);
  sc.row('ContainerStatus of a container on A', 'through B, first (B asks its peers)', 'ms', lat.first, 'on A');
  sc.row('ContainerStatus of a container on A', 'through B, owner remembered', 'ms', lat.cached, 'on A');
  sc.row('ContainerStatus of a container on A', 'on A', 'ms', lat.direct);
}
