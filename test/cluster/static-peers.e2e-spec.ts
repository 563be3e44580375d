/**
 * Replicas found through EXEC_PEERS (a static list, no DNS) on the shared engine: two built services,
 * each given the other, forward calls about each other's sessions and containers (SCALING.md): attach,
 * ContainerStatus, resize and the caller's x-request-id reach the owner; ListSessions and an unfiltered
 * ContainerLifecycle merge both; a call is forwarded once. With the owner down: `replica_unreachable`
 * in the merged stream (and its events again once it is back), ListSessions and the CLI's `ls` name
 * it, a Start with a request_id is UNAVAILABLE. A replica that drains (SIGTERM) ends the calls it forwards
 * UNAVAILABLE with a message to reconnect (never CANCELLED, which a resuming client takes as final) and
 * tells its lifecycle subscribers UNAVAILABLE to resume. And with EXEC_PEERS_DNS beside EXEC_PEERS, DNS wins
 * for an id in both; an unknown id is looked up at most once a second.
 */
import { status } from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ControlClient, ExecClient, GRPCConnectionManager, ResumingSession } from '@exec-stream/client';
import { loadConfig } from '../../src/common/config/exec-config';
import { createRootLogger } from '../../src/common/logger';
import { PeerDirectory } from '../../src/exec/cluster/peer-directory';
import { RequestIdHome } from '../../src/exec/cluster/request-id-home';
import { buildService, childService, type ChildService } from '../support/child-service';
import { buildCli, cliEnv, runCli } from '../support/cli';
import { backgroundReader, waitUntil } from '../support/conditions';
import { dockerAsync, grpcError } from '../support/helpers';
import { BASE_IMAGE, freePort } from '../support/server';

const A = `sp-a-${process.pid}`;
const B = `sp-b-${process.pid}`;
let a: ChildService;
let b: ChildService;
let control: { a: ControlClient; b: ControlClient };
const extra: GRPCConnectionManager[] = [];

beforeAll(async () => {
  buildService();
  buildCli();
  const [portA, portB] = [await freePort(), await freePort()];
  a = await childService({ EXEC_REPLICA_ID: A, EXEC_PEERS: `${A}=127.0.0.1:${portA},${B}=127.0.0.1:${portB}` }, { port: portA });
  b = await childService({ EXEC_REPLICA_ID: B, EXEC_PEERS: `${A}=127.0.0.1:${portA},${B}=127.0.0.1:${portB}` }, { port: portB });
  await Promise.all([a.start(), b.start()]);
  control = { a: new ControlClient(a.connection), b: new ControlClient(b.connection) };
}, 120_000);
afterAll(async () => {
  for (const c of extra) c.close();
  await a?.dispose();
  await b?.dispose();
});

/** Of the request_ids sp-<pid>-0 … sp-<pid>-63, those whose home replica (SCALING.md, "request_id") is `home`, as A computes it. */
function requestIdsHomedOn(home: string): string[] {
  const dataDir = mkdtempSync(join(tmpdir(), 'exec-stream-static-peers-home-')); // RequestIdHome keeps its members there
  try {
    const config = loadConfig({ EXEC_REPLICA_ID: A, EXEC_PEERS: `${B}=${b.address}`, EXEC_DATA_DIR: dataDir });
    const homes = new RequestIdHome(new PeerDirectory(config, createRootLogger('silent')), config, createRootLogger('silent'));
    const ids = Array.from({ length: 64 }, (_, i) => `sp-${process.pid}-${i}`).filter((id) => homes.of(id) === home);
    expect(ids).not.toEqual([]); // 64 ids over two replicas: both have some, all but certainly (1 in 2^63 not)
    return ids;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A connection to `svc` whose every call carries these metadata. */
function withMetadata(svc: ChildService, md: Record<string, string>) {
  const c = new GRPCConnectionManager({ address: svc.address });
  for (const [k, v] of Object.entries(md)) c.getMetadata().set(k, v);
  extra.push(c);
  return { exec: new ExecClient(c), control: new ControlClient(c) };
}

describe('two replicas given each other in EXEC_PEERS', () => {
  it("a run on B, through A: its output and exit code by session id, its container's status, one merged ListSessions naming each replica", async () => {
    const onB = b.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo from-b; exec sleep 60'] });
    const { sessionId, containerId } = await onB.ready;
    const onA = a.client.run(BASE_IMAGE, { command: ['echo', 'from-a'] });
    expect(await onA.wait()).toBe(0);
    expect(sessionId.startsWith(`${B}.`)).toBe(true);
    expect(await control.a.status(containerId)).toMatchObject({ status: 'running' });
    const listed = (await control.a.listSessions({})).sessions ?? [];
    expect(listed.find((s) => s.session_id === sessionId)?.replica).toBe(B);
    expect(listed.some((s) => s.replica === A)).toBe(true);
    const through = a.client.attach({ sessionId });
    const out = backgroundReader(through.output());
    await out.until('from-b\n');
    await control.a.signal(containerId, 'KILL'); // forwarded to B
    expect(await through.exit).toBe(137);
    expect(await onB.wait()).toBe(137);
  });

  it("the writer's resize through A reaches B's process; the caller's x-request-id reaches B's log", async () => {
    const onB = b.client.run(BASE_IMAGE, {
      command: ['sh', '-c', 'echo up; until [ "$(stty size)" = "33 111" ]; do usleep 10000; done; echo sized'],
      tty: true,
      openStdin: true,
      clientId: 'static-peers-writer',
    });
    const { sessionId, containerId } = await onB.ready;
    const through = a.client.attach({ sessionId, clientId: 'static-peers-writer' });
    const out = backgroundReader(through.output());
    await out.until('up');
    through.resize(111, 33);
    await out.until('sized');
    expect(await through.exit).toBe(0);
    expect(await onB.wait()).toBe(0);

    const traced = withMetadata(a, { 'x-request-id': `fwd-trace-${process.pid}` });
    await traced.control.status(containerId).catch(() => undefined); // B answers: the status, or NOT_FOUND once removed
    const line = await waitUntil("B's log line of the forwarded call", () =>
      b.logs.find((l) => l.requestId === `fwd-trace-${process.pid}` && l.msg === 'call ended'),
    );
    expect(line).toMatchObject({ method: 'ContainerStatus' });
  });

  it('a call is forwarded once: a container nobody has is NOT_FOUND (no ping-pong), and a client-sent x-exec-forwarded-by is answered locally', async () => {
    // B asks A (marked as forwarded); A answers from its own engine instead of asking B back.
    expect((await grpcError(control.b.status('0123456789ab0123456789ab'))).code).toBe(status.NOT_FOUND);
    const onB = b.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo kept'] });
    const { sessionId } = await onB.ready;
    expect(await onB.wait()).toBe(0);
    expect((await a.client.attach({ sessionId }).collect()).stdout.toString()).toBe('kept\n');
    const local = withMetadata(a, { 'x-exec-forwarded-by': 'a-client' });
    expect((await grpcError(local.exec.attach({ sessionId }).wait())).code).toBe(status.NOT_FOUND);
  });

  it("with B down: A's merged lifecycle stream says replica_unreachable, ListSessions and the CLI's ls name B, a request_id Start whose home is B is UNAVAILABLE (the others start); B's events follow again once it is back", async () => {
    const merged = control.a.lifecycle();
    await waitUntil('the merged stream open on both replicas', async () => {
      // An event of B's through A's stream proves B's part of it is open.
      const probe = b.client.run(BASE_IMAGE, { command: ['true'] });
      const { containerId } = await probe.ready;
      await probe.wait();
      return (await merged.waitFor((e) => e.containerId === containerId && e.replica === B, 5_000).catch(() => undefined)) !== undefined;
    });
    await b.stop('SIGKILL');
    const [unreachable] = (await merged.waitFor((e) => e.type === 'replica_unreachable')).slice(-1);
    expect(unreachable).toMatchObject({ replica: B, containerId: '' });

    const listed = await control.a.listSessions({});
    expect(listed.unreachable_replicas).toEqual([B]);
    const ls = await runCli(['ls'], cliEnv({ EXEC_ADDR: a.address }));
    expect(ls.code).toBe(0);
    expect(ls.stderr.toString()).toContain(B);
    // A request_id decides on its home replica (SCALING.md): an id whose home is B waits for it (UNAVAILABLE
    // naming it), one whose home is A starts at once. One id of each kind, told apart by the homes every
    // replica computes (the service's RequestIdHome, over A and its peer B).
    const [homedOnA, homedOnB] = [A, B].map((home) => requestIdsHomedOn(home)[0]);
    const byId = await Promise.all(
      [homedOnA, homedOnB].map((requestId) =>
        a.client
          .run(BASE_IMAGE, { command: ['true'], requestId })
          .wait()
          .then(
            (code) => `exit ${code}`,
            (err: { code: status; details: string }) =>
              err.code === status.UNAVAILABLE && err.details.includes(B) ? 'UNAVAILABLE naming B' : `${err.code} ${err.details}`,
          ),
      ),
    );
    expect(byId).toEqual(['exit 0', 'UNAVAILABLE naming B']);

    await b.start();
    const back = b.client.run(BASE_IMAGE, { command: ['true'] });
    const { containerId } = await back.ready;
    expect(await back.wait()).toBe(0);
    // B's events follow again; the stream resumed from where it had been (a `started` of the new run at least).
    await merged.waitFor((e) => e.containerId === containerId && e.replica === B, 30_000);
    merged.close();
  });
});

describe('a replica that drains (SIGTERM, as in a rolling restart)', () => {
  it('SIGTERM of a replica forwarding a session: its client is told UNAVAILABLE to reconnect, resumes through it, and gets every byte and the exit code', async () => {
    // 40 lines, 0.1 s apart until /tmp/go exists in its container (the same bytes either way): once A is
    // back, the lines left come at once instead of after their pauses.
    const run = b.client.run(BASE_IMAGE, { command: ['sh', '-c', 'for i in $(seq 1 40); do echo "line $i"; [ -e /tmp/go ] || sleep 0.1; done; exit 7'] });
    const { sessionId, containerId } = await run.ready;
    const errors: string[] = [];
    const via = ResumingSession.attach(a.client, { sessionId }, { reconnectWindowMs: 60_000, onReconnect: ({ error }) => errors.push(error.message) });
    const out: string[] = [];
    const reading = (async () => {
      for await (const p of via.output()) out.push(p.data.toString());
    })();
    await waitUntil('five lines through A', () => out.join('').includes('line 5\n'));
    await a.stop('SIGTERM');
    await a.start();
    // A container that has already ended has written every line: it needs no gate.
    await dockerAsync('exec', containerId, 'touch', '/tmp/go').catch(() => undefined);
    await reading;
    expect(out.join('')).toBe(Array.from({ length: 40 }, (_, i) => `line ${i + 1}\n`).join(''));
    expect(await via.exit).toBe(7);
    expect(errors[0]).toMatch(new RegExp(`^14 UNAVAILABLE: replica ${A}, which forwarded this call, is shutting down; its owner goes on: reconnect`));
  });

  it('SIGTERM of a replica: its lifecycle subscribers (a merged stream) are told UNAVAILABLE to resume, not cut', async () => {
    const sub = new ControlClient(a.connection).lifecycle();
    let headers = false;
    sub.call.on('metadata', () => (headers = true));
    await waitUntil('subscribed', () => headers);
    await a.stop('SIGTERM');
    await waitUntil('the stream ended', () => sub.ended);
    expect({ code: sub.error?.code, details: sub.error?.details }).toEqual({
      code: status.UNAVAILABLE,
      details: expect.stringContaining('resume with resume_after_id'),
    });
    // A stays down: no later test of this file uses A or B (afterAll disposes of a stopped service too).
  });
});

describe('EXEC_PEERS with EXEC_PEERS_DNS (a real DNS server on loopback, dnsmasq)', () => {
  const NAME = `sp-${process.pid % 100000}`;
  const SRV = '_grpc._tcp.peers.test';
  let dir: string;
  let port: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'exec-stream-static-peers-dns-'));
    port = await freePort();
    // es-b is in both: DNS says 127.0.0.2:7000, EXEC_PEERS 127.0.0.9:9. log-queries: each lookup is in the log.
    writeFileSync(join(dir, 'dns.conf'), `log-queries\nsrv-host=${SRV},es-b.peers.test,7000\nhost-record=es-b.peers.test,127.0.0.2\n`);
    await promisify(execFile)('bash', [join(__dirname, '..', '..', 'scripts', 'dns-server.sh'), NAME, 'start', String(port), join(dir, 'dns.conf')]);
  });
  afterAll(async () => {
    await promisify(execFile)('bash', [join(__dirname, '..', '..', 'scripts', 'dns-server.sh'), NAME, 'stop']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('DNS wins for an id in both; an id in EXEC_PEERS only stays; an unknown id is looked up again at most once a second', async () => {
    const config = loadConfig({
      EXEC_REPLICA_ID: 'es-a',
      EXEC_PEERS: 'es-b=127.0.0.9:9,es-c=127.0.0.3:8000',
      EXEC_PEERS_DNS: SRV,
      EXEC_DNS_SERVER: `127.0.0.1:${port}`,
      EXEC_PEERS_REFRESH_MS: '600000',
    });
    const directory = new PeerDirectory(config, createRootLogger('silent'));
    await directory.onModuleInit();
    try {
      expect(Object.fromEntries(directory.peers())).toEqual({ 'es-b': '127.0.0.2:7000', 'es-c': '127.0.0.3:8000' });
      const log = `/var/log/exec-stream-dns-${NAME}.log`;
      const srvQueries = () =>
        readFileSync(log, 'utf8')
          .split('\n')
          .filter((l) => l.includes(`query[SRV] ${SRV}`)).length;
      const before = srvQueries();
      // 20 calls naming a replica nobody knows, at once: one lookup, shared.
      expect(await Promise.all(Array.from({ length: 20 }, () => directory.addressOf('es-z')))).toEqual(Array(20).fill(undefined));
      await waitUntil('the on-demand lookup in the DNS log', () => srvQueries() > before);
      expect(srvQueries() - before).toBe(1);
      // Within the second: none more (a lookup would be over, and logged, before addressOf answers).
      expect(await directory.addressOf('es-z')).toBeUndefined();
      expect(srvQueries() - before).toBe(1);
    } finally {
      directory.onModuleDestroy();
    }
  });
});
