import { createHash } from 'node:crypto';
import { readdirSync, readlinkSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ExecClient, GRPCConnectionManager, type ExecSession } from '@exec-stream/client';
import { fmtBytes } from './config';
import { CpuMeter, perGiB } from './cpu';
import { yesLine } from './payload';
import { PeakRss, readMemory, type ServerHandle } from './server-process';
import { errText, memoryRows, Scenario, sleep, type BenchContext, type ScenarioResult } from './scenarios';
import type { MemoryBreakdown } from './memory-probe-preload';

/** Phase 1: each short session writes two halves of this many bytes in all, with a pause between (clients meet it running, or finished). */
const SHORT_BYTES = 64 * 1024;
/** Phase 1: sessions running at once. */
const CONCURRENCY = 8;
/** Phase 1: clients per session that attach, read part of the output and leave (besides the starter, which reads it all). */
const PARTIAL_CLIENTS = 2;
/** Phase 2: the bench lets the steady session write one block per tick (its stdin), so the host's clock paces it. */
const TICK_MS = 100;
/** Phase 2: a visitor arrives every 0.5–1.5 s and stays 1–4 s (or until the output ends). */
const VISIT_EVERY_MS: [number, number] = [500, 1500];
const VISIT_STAY_MS: [number, number] = [1000, 4000];
/** After each phase: RSS must be back within idle + this, and open descriptors within idle + FD_SLACK, within SETTLE_MS. */
export const RSS_BOUND_MIB = 32;
export const FD_SLACK = 4;
const SETTLE_MS = 30_000;
/** Idle is read this long after the warm-up. */
const IDLE_WAIT_MS = 6000;

const MiB = 1024 * 1024;

/** A small seeded PRNG (mulberry32): the same run makes the same choices. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The first `bytes` bytes of `yes LINE` for a seed (bench/payload.ts): what `yes "$0" | head -c "$1"` writes. */
export function yesBytes(seed: number, bytes: number): Buffer {
  const line = Buffer.from(`${yesLine(seed)}\n`);
  const out = Buffer.alloc(bytes);
  for (let at = 0; at < bytes; at += line.length) line.copy(out, at, 0, Math.min(line.length, bytes - at));
  return out;
}

/** True when `data` is what a stream made of `block` repeated holds at byte `offset`. */
export function matchesRepeated(block: Buffer, offset: number, data: Buffer): boolean {
  if (!Number.isSafeInteger(offset) || offset < 0) return false;
  let pos = offset % block.length;
  for (let i = 0; i < data.length;) {
    const n = Math.min(data.length - i, block.length - pos);
    if (!data.subarray(i, i + n).equals(block.subarray(pos, pos + n))) return false;
    i += n;
    pos = 0;
  }
  return true;
}

/** Open file descriptors of a process (NaN when it is gone). */
export function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

/** What a process's descriptors are, counted by kind (files under the data dir by name, sockets, pipes): for the notes. */
export function fdKinds(pid: number, dataDir: string): string {
  const kinds = new Map<string, number>();
  try {
    for (const f of readdirSync(`/proc/${pid}/fd`)) {
      let kind: string;
      try {
        kind = readlinkSync(`/proc/${pid}/fd/${f}`)
          .replace(/:\[\d+\]$/, '')
          .replace(dataDir, '<data dir>')
          .replace(/\/sessions\/[^/]+\//, '/sessions/<id>/');
      } catch {
        continue;
      }
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
  } catch {
    return 'gone';
  }
  return [...kinds].map(([k, n]) => `${k} ${n}`).join(', ');
}

/**
 * One memory probe as a line: RSS, V8's heap used of reserved, external memory, the Buffers' backing stores
 * among it (arrayBuffers) and the rest of anonymous RSS. V8's external figure drops only at its next
 * collection after the backing stores are freed; arrayBuffers drops as they are, so "other anonymous" is
 * counted against it.
 */
const madeOf = (m: MemoryBreakdown | undefined) =>
  m
    ? `RSS ${m.rss.toFixed(1)} (heap ${m.heapUsed.toFixed(1)} of ${m.heapTotal.toFixed(1)}, external ${m.external.toFixed(1)}, Buffers ${m.arrayBuffers.toFixed(1)}, other anonymous ${(m.rssAnon - m.heapTotal - m.arrayBuffers).toFixed(1)}) MiB${m.loopBusy === undefined ? '' : `, event loop busy ${(m.loopBusy * 100).toFixed(1)} % since the previous probe`}`
    : 'no probe';

const rssMiB = (pid: number) => (readMemory(pid)?.rss ?? NaN) / 1024;

/** The server's RSS and descriptors through one phase: peaks (RSS from PeakRss, every 50 ms; fds every 250 ms) and a series. */
class Watch {
  private readonly rss: PeakRss;
  private fdPeak: number;
  private readonly fdTimer: NodeJS.Timeout;
  private readonly seriesTimer: NodeJS.Timeout;
  readonly seriesRss: number[] = [];
  readonly seriesFds: number[] = [];

  constructor(
    private readonly pid: number,
    seriesEveryMs: number,
  ) {
    this.rss = new PeakRss(pid);
    this.fdPeak = fdCount(pid);
    this.fdTimer = setInterval(() => (this.fdPeak = Math.max(this.fdPeak, fdCount(pid))), 250);
    this.seriesTimer = setInterval(() => this.point(), seriesEveryMs);
  }

  private point(): void {
    this.seriesRss.push(rssMiB(this.pid));
    this.seriesFds.push(fdCount(this.pid));
  }

  stop(): { rssPeak: number; fdPeak: number } {
    clearInterval(this.fdTimer);
    clearInterval(this.seriesTimer);
    this.point();
    return { rssPeak: this.rss.stop(), fdPeak: Math.max(this.fdPeak, fdCount(this.pid)) };
  }
}

interface Level {
  rss: number;
  /** MiB of RSS that is anonymous (heap, Buffers, malloc), not the node binary's pages */
  anon: number;
  fds: number;
}

const level = (pid: number): Level => ({ rss: rssMiB(pid), anon: (readMemory(pid)?.anon ?? NaN) / 1024, fds: fdCount(pid) });

/** Polls once a second until RSS and descriptors are within bounds of `idle`, for at most SETTLE_MS; the last reading and how long it took. */
async function settle(pid: number, idle: Level): Promise<Level & { ms: number }> {
  const t0 = performance.now();
  for (;;) {
    const now = level(pid);
    const ms = performance.now() - t0;
    if ((now.rss <= idle.rss + RSS_BOUND_MIB && now.fds <= idle.fds + FD_SLACK) || ms >= SETTLE_MS) return { ...now, ms };
    await sleep(1000);
  }
}

const ownConnection = (address: string) => new GRPCConnectionManager({ address, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } });

/** Reads a session to its exit, giving each stdout piece to `onData`; stderr is an error here (the workloads write none). */
async function readAll(s: ExecSession, onData: (b: Buffer, sequence?: number) => void): Promise<number> {
  for await (const p of s.output()) {
    if (p.stream === 'stderr') throw new Error(`stderr: ${p.data.toString().slice(0, 200)}`);
    onData(p.data, p.sequence);
  }
  return s.exit;
}

/** Clients or sessions that checked out, those that did not (the first one's why), and the bytes the good ones checked. */
interface Tally {
  ok: number;
  bad: number;
  bytes: number;
  first?: string;
}
const tally = (): Tally => ({ ok: 0, bad: 0, bytes: 0 });
const fail = (t: Tally, why: string) => {
  t.bad++;
  t.first ??= why;
};

/**
 * 12. Soak (only when named; never in a preset's list): a server of its own, started like the bench's
 * but removing containers itself (the service's default) and with a session output limit that holds
 * the steady session. Phase 1: SOAK_SESSIONS short sessions, CONCURRENCY at a time, each a run writing
 * SHORT_BYTES of its own seed's stream; PARTIAL_CLIENTS clients attach to each (own connections), read
 * part and leave, the starter reads all and checks sha256 and exit code. Phase 2: one session writing
 * SOAK_RATE bytes a second for SOAK_SECONDS (a block per 100 ms tick, paced by the bench through the
 * session's stdin), visitors coming and going (from the start, from a sequence already seen, from the
 * newest), the starter checking every byte's sha256 and the exit code. The server's RSS and open
 * descriptors idle before, at their peak in each phase, and once idle again after each.
 */
export async function soak(ctx: BenchContext): Promise<ScenarioResult> {
  const { cfg } = ctx;
  const block = Math.max(1, Math.round((cfg.soakRate * TICK_MS) / 1000));
  const ticks = Math.max(1, Math.round((cfg.soakSeconds * 1000) / TICK_MS));
  const steadyBytes = block * ticks;
  const sc = new Scenario(12, 'Soak', {
    short_sessions: cfg.soakSessions,
    short_session_bytes: fmtBytes(SHORT_BYTES),
    at_once: CONCURRENCY,
    partial_clients_per_session: PARTIAL_CLIENTS,
    steady_seconds: cfg.soakSeconds,
    steady_rate: `${+(cfg.soakRate / 1e6).toFixed(3)} MB/s`,
    steady_bytes: fmtBytes(steadyBytes),
    rss_bound: `idle + ${RSS_BOUND_MIB} MiB`,
    fd_bound: `idle + ${FD_SLACK}`,
  });
  if (!ctx.spawnServer) throw new Error('scenario 12 starts a server of its own: no spawnServer in the context');
  // The steady session's files are on disk while it runs: refuse what the disk cannot hold rather than end it halfway.
  const fs = statfsSync(tmpdir());
  const free = fs.bavail * fs.bsize;
  if (steadyBytes * 1.1 + 1024 * MiB > free)
    throw new Error(`scenario 12: the steady session writes ${fmtBytes(steadyBytes)}, and ${tmpdir()} has ${fmtBytes(free)} free`);
  const server = await ctx.spawnServer(
    {
      EXEC_REMOVE_CONTAINERS: 'true',
      EXEC_SESSION_OUTPUT_BYTES: String(Math.max(1024 * MiB, Math.ceil(steadyBytes * 1.1))),
    },
    undefined,
    undefined,
    true, // what its memory is made of, idle and after each phase (bench/memory-probe-preload.ts)
  );
  sc.notes.push(
    `A server of its own (started like the bench's, with EXEC_REMOVE_CONTAINERS=true and EXEC_SESSION_OUTPUT_BYTES raised to hold the steady session; retention as the bench's, EXEC_RETENTION_SECONDS=5 unless SERVER_ENV says otherwise), so idle is that server's after a warm-up of ${CONCURRENCY} short sessions, not what earlier scenarios left.`,
    `After each phase RSS must be back within idle + ${RSS_BOUND_MIB} MiB and open descriptors within idle + ${FD_SLACK}, polled every second for up to ${SETTLE_MS / 1000} s. Clients (partial readers, visitors) each have a connection of their own, opened and closed per client.`,
  );
  const conn = new GRPCConnectionManager({ address: server.address });
  const client = new ExecClient(conn);
  const meter = new CpuMeter(server.pid);
  try {
    // Warm-up: first-use code and pools, as any service that has served a few sessions.
    await shortSessions(ctx, server, client, CONCURRENCY, 900_000, tally(), tally(), [], 0);
    // Past Node's 5 s keep-alive of the Docker API's idle sockets and the 5 s retention of the warm-up's sessions.
    await sleep(IDLE_WAIT_MS);
    const idle = level(server.pid);
    const kinds0 = fdKinds(server.pid, server.dataDir);
    const mem0 = (await server.memory())?.now;
    ctx.log(`  s12 idle: RSS ${idle.rss.toFixed(1)} MiB, ${idle.fds} fds`);

    // Phase 1
    const sessions = tally();
    const partial = tally();
    const walls: number[] = [];
    const seriesEvery1 = Math.max(1000, Math.round((cfg.soakSessions * 50) / 60));
    const w1 = new Watch(server.pid, seriesEvery1);
    const cpu1 = meter.start();
    const t1 = performance.now();
    await shortSessions(ctx, server, client, cfg.soakSessions, 0, sessions, partial, walls, cfg.soakSessions);
    const phase1S = (performance.now() - t1) / 1000;
    const c1 = cpu1();
    const p1 = w1.stop();
    const after1 = await settle(server.pid, idle);
    const kinds1 = fdKinds(server.pid, server.dataDir);
    const mem1 = (await server.memory())?.now;
    ctx.log(
      `  s12 phase 1: ${cfg.soakSessions} sessions in ${phase1S.toFixed(1)} s, ${sessions.bad} bad; peak RSS ${p1.rssPeak.toFixed(1)} MiB, ${p1.fdPeak} fds; after ${after1.rss.toFixed(1)} MiB, ${after1.fds} fds (${(after1.ms / 1000).toFixed(0)} s)`,
    );
    sc.check(
      "phase 1: every session's sha256 and exit 0",
      cfg.soakSessions > 0 && sessions.bad === 0 && sessions.ok === cfg.soakSessions,
      `${sessions.bad} of ${cfg.soakSessions} wrong: ${sessions.first}`,
    );
    sc.check(
      "phase 1: every partial reader got the session's first bytes",
      partial.bad === 0,
      `${partial.bad} of ${partial.ok + partial.bad} wrong: ${partial.first}`,
    );

    // Phase 2
    const w2 = new Watch(server.pid, Math.max(1000, Math.round((cfg.soakSeconds * 1000) / 60)));
    const cpu2 = meter.start();
    const steady = await steadySession(ctx, client, server, block, ticks);
    const c2 = cpu2();
    const p2 = w2.stop();
    const after2 = await settle(server.pid, idle);
    const kinds2 = fdKinds(server.pid, server.dataDir);
    const mem2 = (await server.memory())?.now;
    // --soak-after-seconds: how the memory goes on after the bound's reading, idle (the probe collects only with --expose-gc).
    for (let s = 5; s <= cfg.soakAfterSeconds; s += 5) {
      await sleep(5000);
      ctx.log(`  s12 after phase 2, ${(after2.ms / 1000 + s).toFixed(0)} s: ${madeOf((await server.memory())?.now)}`);
    }
    ctx.log(`  s12 memory idle / after phase 1 / after phase 2: ${[mem0, mem1, mem2].map(madeOf).join(' / ')}`);
    ctx.log(
      `  s12 phase 2: ${fmtBytes(steady.bytes)} in ${steady.seconds.toFixed(1)} s, ${steady.visitors.ok + steady.visitors.bad} visitors; peak RSS ${p2.rssPeak.toFixed(1)} MiB, ${p2.fdPeak} fds; after ${after2.rss.toFixed(1)} MiB, ${after2.fds} fds (${(after2.ms / 1000).toFixed(0)} s)`,
    );
    sc.check(
      "phase 2: the steady session's sha256 (every byte) and exit 0",
      steady.error === undefined && steady.bytes === steadyBytes && steady.sha256 === steady.want && steady.exitCode === 0,
      steady.error ?? `${steady.bytes} of ${steadyBytes} bytes, exit ${steady.exitCode}, sha256 ${steady.sha256 === steady.want ? 'right' : 'wrong'}`,
    );
    sc.check(
      "phase 2: every visitor got the stream's bytes at its offset",
      steady.visitors.bad === 0 && steady.visitors.ok > 0,
      `${steady.visitors.bad} of ${steady.visitors.ok + steady.visitors.bad}: ${steady.visitors.first}`,
    );
    // The bounds are figures of a soak's length: at the smoke preset's few seconds they would judge V8's
    // timing, not a leak, so there they are rows only.
    const bound = cfg.mode === 'smoke' ? (name: string, _ok: boolean, detail: string) => sc.notes.push(`${name}: ${detail}`) : sc.check.bind(sc);
    for (const [phase, after] of [
      ['phase 1', after1],
      ['phase 2', after2],
    ] as const) {
      bound(
        `after ${phase}: RSS back within idle + ${RSS_BOUND_MIB} MiB`,
        after.rss <= idle.rss + RSS_BOUND_MIB,
        `${after.rss.toFixed(1)} MiB after ${(after.ms / 1000).toFixed(0)} s, idle ${idle.rss.toFixed(1)} MiB`,
      );
      bound(
        `after ${phase}: open descriptors back within idle + ${FD_SLACK}`,
        after.fds <= idle.fds + FD_SLACK,
        `${after.fds} after ${(after.ms / 1000).toFixed(0)} s, idle ${idle.fds}`,
      );
    }

    sc.row('sessions/s', `phase 1: ${cfg.soakSessions} short sessions, ${CONCURRENCY} at a time`, '/s', [cfg.soakSessions / phase1S]);
    sc.row('session wall (Start → exit)', 'phase 1', 'ms', walls);
    sc.row('bytes checked', 'phase 1: every session (sha256)', 'MiB', [sessions.bytes / MiB]);
    sc.row('bytes checked', "phase 1: partial readers (each a prefix of its session's output)", 'MiB', [partial.bytes / MiB]);
    sc.row('bytes checked', 'phase 2: the steady session (sha256)', 'MiB', [steady.bytes / MiB]);
    sc.row('bytes checked', 'phase 2: visitors (each against the stream at its offset)', 'MiB', [steady.visitors.bytes / MiB]);
    sc.row('steady rate achieved', 'phase 2', 'MB/s', [steady.bytes / 1e6 / steady.seconds]);
    sc.row('visitors', 'phase 2', 'count', [steady.visitors.ok + steady.visitors.bad]);
    sc.row('server RSS', 'idle, before', 'MiB', [idle.rss]);
    sc.row('server RSS', 'peak, phase 1', 'MiB', [p1.rssPeak]);
    sc.row('server RSS', 'after phase 1, idle again', 'MiB', [after1.rss]);
    sc.row('server RSS', 'peak, phase 2', 'MiB', [p2.rssPeak]);
    sc.row('server RSS', 'after phase 2, idle again', 'MiB', [after2.rss]);
    sc.row('server RSS anonymous', 'idle, before', 'MiB', [idle.anon]);
    sc.row('server RSS anonymous', 'after phase 1, idle again', 'MiB', [after1.anon]);
    sc.row('server RSS anonymous', 'after phase 2, idle again', 'MiB', [after2.anon]);
    sc.row('server open descriptors', 'idle, before', 'count', [idle.fds]);
    sc.row('server open descriptors', 'peak, phase 1', 'count', [p1.fdPeak]);
    sc.row('server open descriptors', 'after phase 1, idle again', 'count', [after1.fds]);
    sc.row('server open descriptors', 'peak, phase 2', 'count', [p2.fdPeak]);
    sc.row('server open descriptors', 'after phase 2, idle again', 'count', [after2.fds]);
    sc.row('time to idle again', 'after phase 1', 's', [after1.ms / 1000]);
    sc.row('time to idle again', 'after phase 2', 's', [after2.ms / 1000]);
    sc.row('server RSS through the phase (a series)', 'phase 1', 'MiB', w1.seriesRss);
    sc.row('server RSS through the phase (a series)', 'phase 2', 'MiB', w2.seriesRss);
    sc.row('server open descriptors through the phase (a series)', 'phase 1', 'count', w1.seriesFds);
    sc.row('server open descriptors through the phase (a series)', 'phase 2', 'count', w2.seriesFds);
    sc.row('server CPU', 'phase 1, per session', 's', [c1.server / cfg.soakSessions]);
    sc.row('server CPU', "phase 2, per GiB of the steady session (the visitors' reads included)", 's', [perGiB(c2.server, steady.bytes)]);
    sc.notes.push(`descriptors idle: ${kinds0}; after phase 1: ${kinds1}; after phase 2: ${kinds2}`);
    // What RSS is made of, idle and once idle again after each phase: V8's heap, Buffers, or memory the
    // allocator keeps (RSS anonymous minus the two).
    memoryRows(sc, 'server memory', 'idle', [mem0]);
    memoryRows(sc, 'server memory', 'after phase 1, idle again', [mem1]);
    memoryRows(sc, 'server memory', 'after phase 2, idle again', [mem2]);
    return sc.result();
  } finally {
    conn.close();
    await server.stop();
  }
}

/**
 * `count` short sessions, CONCURRENCY at a time, seeds from `seed0`: each a run of `yes | head` in two
 * halves; PARTIAL_CLIENTS clients attach (own connections), read a random part (none: leave at Ready)
 * and leave; the starter reads all and checks sha256 and exit code.
 */
async function shortSessions(
  ctx: BenchContext,
  server: ServerHandle,
  client: ExecClient,
  count: number,
  seed0: number,
  sessions: Tally,
  partial: Tally,
  walls: number[],
  logEvery: number,
): Promise<void> {
  const half = SHORT_BYTES / 2;
  const rand = prng(seed0 + 12);
  let next = 0;
  const one = async (i: number) => {
    const seed = seed0 + i;
    const halfBytes = yesBytes(seed, half);
    const want = Buffer.concat([halfBytes, halfBytes]);
    const wantSha = createHash('sha256').update(want).digest('hex');
    const command = ['sh', '-c', 'yes "$0" | head -c "$1"; usleep 50000; yes "$0" | head -c "$1"', yesLine(seed), String(half)];
    const t0 = performance.now();
    const s = client.run(ctx.cfg.image, { command });
    const parts = Array.from({ length: PARTIAL_CLIENTS }, () => Math.floor(rand() * SHORT_BYTES));
    const partials = s.ready.then(
      (r) => Promise.all(parts.map((n) => partialRead(server.address, r.sessionId, n, want, partial))),
      () => undefined,
    );
    try {
      const h = createHash('sha256');
      let bytes = 0;
      const exit = await readAll(s, (b) => (h.update(b), (bytes += b.length)));
      walls.push(performance.now() - t0);
      const sha = h.digest('hex');
      if (sha === wantSha && exit === 0) {
        sessions.ok++;
        sessions.bytes += bytes;
      } else fail(sessions, `session ${i}: ${bytes} bytes, exit ${exit}, sha256 ${sha === wantSha ? 'right' : 'wrong'}`);
    } catch (e) {
      fail(sessions, `session ${i}: ${errText(e)}`);
    }
    await partials;
  };
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, count) }, async () => {
      for (let i = next++; i < count; i = next++) {
        await one(i);
        if (logEvery >= 1000 && (i + 1) % Math.round(logEvery / 10) === 0) ctx.log(`  s12 phase 1: ${i + 1} of ${count} sessions`);
      }
    }),
  );
}

/** One client that attaches from the start, reads at least `want` bytes (0: leaves at its Ready) and leaves; what it read must be the output's first bytes. */
async function partialRead(address: string, sessionId: string, want: number, all: Buffer, t: Tally): Promise<void> {
  const conn = ownConnection(address);
  const s = new ExecClient(conn).attach({ sessionId });
  const got: Buffer[] = [];
  let n = 0;
  try {
    await s.ready;
    if (want > 0)
      for await (const p of s.output()) {
        if (p.stream !== 'stdout') throw new Error('stderr');
        got.push(p.data);
        n += p.data.length;
        if (n >= want) break;
      }
    const data = Buffer.concat(got);
    if (data.length <= all.length && data.equals(all.subarray(0, data.length))) {
      t.ok++;
      t.bytes += data.length;
    } else fail(t, `session ${sessionId}: a partial reader's ${data.length} bytes are not the output's first`);
  } catch (e) {
    fail(t, `session ${sessionId}: partial reader: ${errText(e)}`);
  } finally {
    s.cancel();
    conn.close();
  }
}

interface Steady {
  bytes: number;
  sha256: string;
  want: string;
  exitCode: number;
  seconds: number;
  error?: string;
  visitors: Tally;
}

/**
 * Phase 2: one run writing `block` bytes of seed 12's stream per line it reads on stdin; the bench
 * sends a line every TICK_MS (catching up when late) `ticks` times, then EOF. The starter (sequenced)
 * reads every byte, hashes it and notes where each chunk starts; visitors attach meanwhile.
 */
async function steadySession(ctx: BenchContext, client: ExecClient, server: ServerHandle, block: number, ticks: number): Promise<Steady> {
  const blockBytes = yesBytes(12, block);
  const command = ['sh', '-c', 'while read -r _; do yes "$0" | head -c "$1"; done', yesLine(12), String(block)];
  const s = client.run(ctx.cfg.image, { command, openStdin: true, sequenced: true });
  const expected = createHash('sha256');
  const h = createHash('sha256');
  const starts = new Map<number, number>();
  let lastSeq = 0;
  let bytes = 0;
  const visitors = tally();
  let done = false;
  let tickStart = NaN;
  let lastByteAt = NaN;
  const out: Steady = { bytes: 0, sha256: '', want: '', exitCode: NaN, seconds: NaN, visitors };
  try {
    const { sessionId } = await s.ready;
    const reading = readAll(s, (b, seq) => {
      if (seq !== undefined) {
        starts.set(seq, bytes);
        lastSeq = seq;
      }
      h.update(b);
      bytes += b.length;
      lastByteAt = performance.now();
    });
    reading.catch(() => undefined);
    const ticking = (async () => {
      const start = (tickStart = performance.now());
      for (let k = 0; k < ticks; k++) {
        const wait = start + k * TICK_MS - performance.now();
        if (wait > 0) await sleep(wait);
        await s.write(Buffer.from('\n'));
        expected.update(blockBytes);
        if (ticks >= 600 && (k + 1) % Math.round(ticks / 10) === 0) ctx.log(`  s12 phase 2: ${k + 1} of ${ticks} ticks, ${fmtBytes(bytes)} read`);
      }
      s.closeStdin();
    })();
    const rand = prng(1212);
    const pick = (r: [number, number]) => r[0] + rand() * (r[1] - r[0]);
    const inFlight: Promise<void>[] = [];
    const visiting = (async () => {
      for (let v = 0; !done; v++) {
        await sleep(pick(VISIT_EVERY_MS));
        if (done) break;
        const kind = v % 3;
        // From the start (replayed from disk once the session is long), from a chunk the starter has seen, or from the newest.
        const from = kind === 0 || !lastSeq ? 0 : kind === 1 ? 1 + Math.floor(rand() * lastSeq) : lastSeq;
        const offset = from ? starts.get(from) : 0;
        if (offset === undefined) continue; // a chunk the starter never saw: nothing to check a visitor against
        inFlight.push(visit(server.address, sessionId, from, offset, pick(VISIT_STAY_MS), blockBytes, visitors));
      }
    })();
    try {
      out.exitCode = await reading;
    } finally {
      done = true;
      await ticking.catch((e) => (out.error ??= `stdin: ${errText(e)}`));
      await visiting;
      await Promise.all(inFlight);
    }
  } catch (e) {
    out.error = errText(e);
    s.cancel();
  }
  // From the first tick to the last byte, plus the last tick's own 100 ms: the rate the ticks asked for when nothing lags.
  out.seconds = (lastByteAt - tickStart + TICK_MS) / 1000;
  out.bytes = bytes;
  out.sha256 = h.digest('hex');
  out.want = expected.digest('hex');
  return out;
}

/** A visitor: attaches from chunk `from` (0: plain, from the start), reads for `stayMs` or to the end, leaves; its bytes must be the stream's at `offset`. */
async function visit(address: string, sessionId: string, from: number, offset: number, stayMs: number, block: Buffer, t: Tally): Promise<void> {
  const conn = ownConnection(address);
  const s = new ExecClient(conn).attach(from ? { sessionId, fromSequence: from, sequenced: true } : { sessionId });
  const until = performance.now() + stayMs;
  let at = offset;
  let firstSeq: number | undefined;
  try {
    for await (const p of s.output()) {
      if (p.stream !== 'stdout') throw new Error('stderr');
      firstSeq ??= p.sequence;
      if (!matchesRepeated(block, at, p.data)) throw new Error(`bytes at ${at} are not the stream's`);
      at += p.data.length;
      if (performance.now() >= until) break;
    }
    if (from && firstSeq !== undefined && firstSeq !== from) throw new Error(`asked from chunk ${from}, got ${firstSeq} first`);
    t.ok++;
    t.bytes += at - offset;
  } catch (e) {
    fail(t, `visitor from chunk ${from}: ${errText(e)}`);
  } finally {
    s.cancel();
    conn.close();
  }
}
