// Three replicas on one machine, as issue 14 asks: three service processes, each beside its own Docker
// engine (three dockerd), finding each other through a real DNS server (dnsmasq on loopback serving the
// headless Service's SRV and A records). Every call that names another replica's session or container is
// forwarded to it; ListSessions and an unfiltered ContainerLifecycle merge all three; a killed replica's
// sessions answer UNAVAILABLE naming it, and are served again once it is back. Clients are our own
// (ExecClient, ControlClient, FileClient, ResumingSession) over real gRPC.
import { status as Code } from '@grpc/grpc-js';
import { ControlClient, FileClient, ResumingSession, type ExecError, type ExecSession } from '@exec-stream/client';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { waitUntil } from '../support/conditions';
import { buildService, type ChildService } from '../support/child-service';
import { startCluster, type Cluster } from '../support/cluster';
import { grpcError, sha256 } from '../support/helpers';
import { BASE_IMAGE } from '../support/server';
import { generatedTar, TarDigest } from '../support/tar';

let cluster: Cluster;
let A: ChildService;
let B: ChildService;
let C: ChildService;
const control = (r: ChildService) => new ControlClient(r.connection);
const files = (r: ChildService) => new FileClient(r.connection);
/** `seq a b` as the container prints it. */
const seqText = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${from + i}\n`).join('');
/** A container on A that runs until the suite ends (exec, stdin, control and files go to it). */
let sleeper: string;

beforeAll(async () => {
  buildService();
  cluster = await startCluster(['es-a', 'es-b', 'es-c']);
  ({ 'es-a': A, 'es-b': B, 'es-c': C } = cluster.replicas);
  sleeper = (await A.client.run(BASE_IMAGE, { command: ['sleep', '600'] }).ready).containerId;
}, 300_000);
afterAll(async () => {
  await cluster?.dispose();
});

/** Collects a session's output and exit code as hashes (the bytes themselves can be large). */
async function digestOf(s: ExecSession) {
  const r = await s.collect();
  return { stdout: sha256(r.stdout), stderr: sha256(r.stderr), exitCode: r.exitCode };
}

it('a run on A is attached through B (by session id) and C (by container id) at once: byte-exact, the same exit code', async () => {
  const run = A.client.run(BASE_IMAGE, { command: ['sh', '-c', 'sleep 1; seq 1 200000; seq 1 3000 >&2; exit 3'] });
  const ready = await run.ready;
  expect(ready.sessionId).toMatch(/^es-a\.[0-9a-f-]{36}$/);
  const [own, viaB, viaC] = await Promise.all([
    digestOf(run),
    digestOf(B.client.attach({ sessionId: ready.sessionId })),
    digestOf(C.client.attach({ containerId: ready.containerId })),
  ]);
  const expected = { stdout: sha256(seqText(1, 200000)), stderr: sha256(seqText(1, 3000)), exitCode: 3 };
  expect({ own, viaB, viaC }).toEqual({ own: expected, viaB: expected, viaC: expected });
});

it("an exec in A's container started through B, with 4 MiB of stdin through B: the process gets every byte", async () => {
  const input = randomBytes(4 * 1024 * 1024);
  const s = B.client.exec(sleeper.slice(0, 12), { command: ['sh', '-c', 'sha256sum | cut -d" " -f1'], openStdin: true });
  const ready = await s.ready;
  expect(ready.sessionId).toMatch(/^es-a\./); // the exec lives on A, beside its container
  for (let at = 0; at < input.length; at += 256 * 1024) await s.write(input.subarray(at, at + 256 * 1024));
  s.closeStdin();
  const r = await s.collect();
  expect({ stdout: r.stdout.toString(), exitCode: r.exitCode }).toEqual({ stdout: `${sha256(input)}\n`, exitCode: 0 });
});

it('a client stalled behind B never slows the run on A, B holds a bounded amount for it, and it then reads every byte', async () => {
  const size = 128 * 1024 * 1024;
  const line = '0123456789abcdef\n';
  const expected = sha256(Buffer.from(line.repeat(Math.ceil(size / line.length))).subarray(0, size));
  const run = A.client.run(BASE_IMAGE, { command: ['sh', '-c', `sleep 1; yes 0123456789abcdef | head -c ${size}`] });
  const { sessionId } = await run.ready;
  const rssOfB = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${B.proc!.pid}/status`, 'utf8'))![1]) * 1024;
  const before = rssOfB();
  const stalled = B.client.attach({ sessionId });
  const pieces = stalled.output();
  const first = (await pieces.next()).value!;
  // The owner's own client reads at once: the run ends while the client behind B reads nothing.
  expect(await digestOf(run)).toEqual({ stdout: expected, stderr: sha256(''), exitCode: 0 });
  // Not a queue: one of the whole output would hold 128 MiB. What B holds is the HTTP/2 windows (4 MiB
  // in our client, 1 MiB to A) and grpc-js's buffers; RSS adds garbage not yet collected and heap B
  // grew for earlier calls (18–45 MiB seen; BENCHMARKS.md has the measurement).
  const grown = rssOfB() - before;
  expect(grown).toBeLessThan(size / 2);
  const h = createHash('sha256').update(first.data);
  for await (const p of pieces) h.update(p.data);
  expect({ sha: h.digest('hex'), exitCode: await stalled.exit }).toEqual({ sha: expected, exitCode: 0 });
});

it("status, pause, resume and signal of A's container through C; an unknown container is NOT_FOUND through any replica", async () => {
  const viaC = control(C);
  expect((await viaC.status(sleeper)).status).toBe('running');
  expect((await viaC.pause(sleeper)).success).toBe(true);
  expect((await control(B).status(sleeper.slice(0, 12))).status).toBe('paused');
  expect((await viaC.resume(sleeper)).success).toBe(true);
  expect((await viaC.status(sleeper)).status).toBe('running');
  const victim = (await A.client.run(BASE_IMAGE, { command: ['sleep', '600'] }).ready).containerId;
  expect((await viaC.signal(victim, 'SIGKILL')).success).toBe(true);
  await waitUntil('the signalled container exited, seen through B', async () => (await control(B).status(victim)).status === 'exited');
  const unknown = await grpcError(control(B).status('0123456789ab'));
  expect({ code: Code[unknown.code], details: unknown.details }).toEqual({ code: 'NOT_FOUND', details: expect.stringContaining('0123456789ab') });
});

it("CopyTo and CopyFrom of A's container through C: byte-exact", async () => {
  const source = generatedTar('through-c.bin', 3 * 1024 * 1024 + 7);
  await files(C).copyTo(sleeper, '/tmp', source.tar);
  const { stat, tar } = await files(B).copyFrom(sleeper, '/tmp/through-c.bin');
  const digest = new TarDigest();
  await pipeline(tar, digest);
  expect({ size: Number(stat.size), entries: digest.entries.map((e) => [e.name, e.sha256]) }).toEqual({
    size: 3 * 1024 * 1024 + 7,
    entries: [['through-c.bin', source.sha256()]],
  });
});

it('ListSessions through any replica lists the sessions of all three, each naming its replica, page by page', async () => {
  const tag = `list-${Date.now()}`;
  const ids = new Map<string, string>();
  for (const [name, r] of Object.entries<ChildService>(cluster.replicas)) {
    for (let i = 0; i < 2; i++) {
      const s = r.client.run(BASE_IMAGE, { command: ['true'], labels: { suite: tag } });
      ids.set((await s.ready).sessionId, name);
      await s.wait();
    }
  }
  for (const r of [A, B, C]) {
    const all = await control(r).listSessions({ labels: { suite: tag } });
    expect(all.unreachable_replicas ?? []).toEqual([]);
    expect(new Map(all.sessions!.map((s) => [s.session_id!, s.replica!]))).toEqual(ids);
    // Pages of 4: the same six sessions in the same order, none twice.
    const paged: string[] = [];
    for (let token = ''; ;) {
      const page = await control(r).listSessions({ labels: { suite: tag }, limit: 4, page_token: token });
      paged.push(...page.sessions!.map((s) => s.session_id!));
      token = page.next_page_token ?? '';
      if (!token) break;
    }
    expect(paged).toEqual(all.sessions!.map((s) => s.session_id));
  }
});

it("ContainerLifecycle without a filter, through B, merges every replica's events, each naming its replica; with a filter it follows A's container", async () => {
  const merged = control(B).lifecycle();
  const filtered = control(C).lifecycle({ containerId: sleeper });
  try {
    await new Promise((r) => setTimeout(r, 1000)); // both streams are open on every replica
    const onA = (await A.client.run(BASE_IMAGE, { command: ['true'] }).ready).containerId;
    const onC = (await C.client.run(BASE_IMAGE, { command: ['true'] }).ready).containerId;
    const events = await collectUntil(merged, (all) => all.some((e) => e.containerId === onA) && all.some((e) => e.containerId === onC));
    expect(new Set(events.filter((e) => e.containerId === onA).map((e) => e.replica))).toEqual(new Set(['es-a']));
    expect(new Set(events.filter((e) => e.containerId === onC).map((e) => e.replica))).toEqual(new Set(['es-c']));
    await control(B).pause(sleeper);
    await control(B).resume(sleeper);
    const mine = await collectUntil(filtered, (all) => all.some((e) => e.type === 'resumed'));
    expect(mine.every((e) => e.containerId === sleeper && e.replica === 'es-a')).toBe(true);
  } finally {
    merged.close();
    filtered.close();
  }
});

/** Events of a subscription until `done` holds for all of them so far (15 s at most). */
async function collectUntil(
  sub: ReturnType<ControlClient['lifecycle']>,
  done: (all: Array<{ containerId: string; type: string; replica: string }>) => boolean,
) {
  const all: Array<{ containerId: string; type: string; replica: string }> = [];
  const deadline = Date.now() + 15_000;
  while (!done(all)) {
    if (Date.now() > deadline) throw new Error(`events so far: ${JSON.stringify(all)}`);
    const e = await sub.next(Math.max(1, deadline - Date.now()));
    if (e) all.push(e);
  }
  return all;
}

it('a run retried through B with the request_id of a run A made attaches to that run: one process, the same session, listed once', async () => {
  const start = { command: ['sh', '-c', 'echo "ran once"; sleep 2; exit 4'], requestId: `retry-${Date.now()}` };
  const first = A.client.run(BASE_IMAGE, start);
  const { sessionId } = await first.ready;
  const retry = B.client.run(BASE_IMAGE, start);
  expect((await retry.ready).sessionId).toBe(sessionId);
  const [a, b] = await Promise.all([first.collect(), retry.collect()]);
  expect([a, b].map((r) => [r.stdout.toString(), r.exitCode])).toEqual([
    ['ran once\n', 4],
    ['ran once\n', 4],
  ]);
  const listed = await control(C).listSessions({ request_id: start.requestId });
  expect(listed.sessions!.map((s) => s.session_id)).toEqual([sessionId]);
});

it("RemoveSession of A's session through C: refused while it runs (A's reason comes through), then forgotten on A", async () => {
  const run = A.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo kept; sleep 600'] });
  const { sessionId } = await run.ready;
  const refused = (await grpcError(control(C).removeSession(sessionId))) as ExecError;
  expect({ code: Code[refused.code], reason: refused.reason }).toEqual({ code: 'FAILED_PRECONDITION', reason: 'SESSION_RUNNING' });
  expect(await control(C).removeSession(sessionId, { force: true })).toEqual({ sessionId, killed: true });
  await run.wait().catch(() => undefined);
  const gone = (await grpcError(A.client.attach({ sessionId }).collect())) as ExecError;
  expect({ code: Code[gone.code], reason: gone.reason }).toEqual({ code: 'NOT_FOUND', reason: 'SESSION_NOT_FOUND' });
});

it('bad ids through a non-owner: a replica no peer knows is UNAVAILABLE naming it, an unknown session of A is NOT_FOUND from A, a malformed id INVALID_ARGUMENT', async () => {
  const uuid = '0c0ffee0-0000-4000-8000-000000000000';
  const nobody = await grpcError(B.client.attach({ sessionId: `es-zz.${uuid}` }).collect());
  expect({ code: Code[nobody.code], details: nobody.details }).toEqual({ code: 'UNAVAILABLE', details: expect.stringContaining('replica es-zz') });
  expect((nobody as ExecError).reason).toBe('REPLICA_UNAVAILABLE');
  const unknown = await grpcError(B.client.attach({ sessionId: `es-a.${uuid}` }).collect());
  expect({ code: Code[unknown.code], details: unknown.details }).toEqual({ code: 'NOT_FOUND', details: expect.stringContaining(`es-a.${uuid}`) });
  // The owner's status details come through the forwarding replica unchanged (docs/PROTOCOL.md, "Errors").
  expect({ reason: (unknown as ExecError).reason, resource: (unknown as ExecError).resource }).toEqual({
    reason: 'SESSION_NOT_FOUND',
    resource: { type: 'session', name: `es-a.${uuid}` },
  });
  const malformed = await grpcError(control(C).status('../../containers/x'));
  expect(Code[malformed.code]).toBe('INVALID_ARGUMENT');
  // Each replica is still serving.
  for (const r of [A, B, C]) expect((await r.client.run(BASE_IMAGE, { command: ['true'] }).collect()).exitCode).toBe(0);
});

it('kill -9 of A: B answers UNAVAILABLE naming es-a for its sessions and serves its own; A back: a resuming client through B gets every byte', async () => {
  // A slow run on A, followed through B by a client that resumes across the outage.
  const run = A.client.run(BASE_IMAGE, {
    command: ['sh', '-c', 'i=1; while [ $i -le 80 ]; do echo "tick $i"; i=$((i+1)); sleep 0.1; done; exit 5'],
    sequenced: true,
  });
  const { sessionId } = await run.ready;
  const resuming = ResumingSession.attach(B.client, { sessionId }, { reconnectWindowMs: 60_000 });
  const out: Buffer[] = [];
  const reading = (async () => {
    for await (const piece of resuming.output()) out.push(piece.data);
  })();
  await waitUntil('ten ticks through B', () => Buffer.concat(out).toString().includes('tick 10\n'));
  await A.stop('SIGKILL');

  const gone = await grpcError(B.client.attach({ sessionId }).collect());
  expect({ code: Code[gone.code], details: gone.details }).toEqual({ code: 'UNAVAILABLE', details: expect.stringContaining('es-a') });
  const status = await grpcError(control(C).status(sleeper));
  expect({ code: Code[status.code], details: status.details }).toEqual({ code: 'UNAVAILABLE', details: expect.stringContaining('es-a') });
  const own = await B.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo still here'] }).collect();
  expect({ out: own.stdout.toString(), exitCode: own.exitCode }).toEqual({ out: 'still here\n', exitCode: 0 });
  const listed = await control(C).listSessions({});
  expect(listed.unreachable_replicas).toEqual(['es-a']);
  expect(listed.sessions!.some((s) => s.replica === 'es-b') && listed.sessions!.every((s) => s.replica !== 'es-a')).toBe(true);

  await A.start();
  expect(await resuming.exit).toBe(5);
  await reading;
  expect(Buffer.concat(out).toString()).toBe(Array.from({ length: 80 }, (_, i) => `tick ${i + 1}\n`).join(''));
  expect(resuming.reconnects).toBeGreaterThanOrEqual(1);
  expect((await control(C).status(sleeper)).status).toBe('running');
}, 180_000);
