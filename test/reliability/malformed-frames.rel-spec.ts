import http2 from 'node:http2';
import net from 'node:net';
import { alive, processUsage, recordFigures, tally } from './support/figures';
import { Prng } from './support/prng';
import { encodeRequest, HUNG_MS, pb } from './support/raw-rpc';
import { runPool } from './support/pool';
import { probeSession, serviceForSuite, TOKEN, waitFor } from './support/service';

const CONNECTIONS = 600;
const SEED = 80_003;
const LIFECYCLE_PATH = '/dagger.exec.Exec/ContainerLifecycle';
const PATHS = [
  '/dagger.exec.Exec/Session',
  '/dagger.exec.Exec/ContainerStatus',
  '/dagger.exec.Exec/ContainerSignal',
  '/dagger.exec.Exec/ContainerPause',
  LIFECYCLE_PATH,
  '/dagger.exec.Exec/Nope',
  '/x/../dagger.exec.Exec/Session',
  '/',
];

const s = serviceForSuite();

/** A gRPC length-prefixed message: compressed flag, 4-byte big-endian length, body. */
const frame = (body: Buffer, compressed = 0, length = body.length) =>
  Buffer.concat([Buffer.from([compressed, length >>> 24, (length >>> 16) & 255, (length >>> 8) & 255, length & 255]), body]);

/** What a malformed request sends: a name (for the figures) and the request body, headers and ending. */
function malformed(rng: Prng): { kind: string; headers: http2.OutgoingHttpHeaders; body: Buffer; end: boolean } {
  const path = rng.pick(PATHS);
  const headers: http2.OutgoingHttpHeaders = {
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
    authorization: `Bearer ${TOKEN}`,
  };
  const good = path.endsWith('Session')
    ? encodeRequest('Session', { start: { session_id: 'nope' } })
    : encodeRequest('ContainerStatus', { container_id: 'nope' });
  const kinds: Array<() => { kind: string; body: Buffer; end?: boolean; headers?: http2.OutgoingHttpHeaders }> = [
    () => ({ kind: 'length prefix longer than body', body: frame(good, 0, good.length + 1 + rng.int(1000)) }),
    () => ({ kind: 'length prefix shorter than body', body: frame(good, 0, Math.max(0, good.length - 1 - rng.int(3))) }),
    () => ({ kind: 'compressed flag without encoding', body: frame(good, 1) }),
    () => ({ kind: 'unknown compression', body: frame(rng.bytes(20), 1), headers: { 'grpc-encoding': 'snappy9' } }),
    () => ({ kind: 'gzip flag, not gzip', body: frame(rng.bytes(20), 1), headers: { 'grpc-encoding': 'gzip' } }),
    () => ({ kind: 'bad flag byte', body: frame(good, 2 + rng.int(250)) }),
    () => ({ kind: 'truncated header', body: frame(good).subarray(0, rng.int(5)) }),
    () => ({ kind: 'truncated message', body: frame(good).subarray(0, 5 + rng.int(good.length)) }),
    () => ({ kind: 'random protobuf bytes', body: frame(rng.bytes(1 + rng.int(200))) }),
    () => ({ kind: 'wrong wire type', body: frame(Buffer.concat([pb.uint(1, rng.int(1e6)), pb.uint(3, 7)])) }),
    () => ({ kind: 'nested garbage in start', body: frame(pb.bytes(1, rng.bytes(1 + rng.int(64)))) }),
    () => ({ kind: 'oversized message', body: frame(Buffer.alloc(5 * 1024 * 1024, 0x41)) }),
    () => ({ kind: 'oversized length prefix', body: frame(good, 0, 0x7fffffff) }),
    () => ({ kind: 'garbage body', body: rng.bytes(1 + rng.int(300)) }),
    () => ({ kind: 'no content-type', body: frame(good), headers: { 'content-type': 'text/plain' } }),
    () => ({ kind: 'GET', body: Buffer.alloc(0), headers: { ':method': 'GET' } }),
    () => ({ kind: 'bad grpc-timeout', body: frame(good), headers: { 'grpc-timeout': rng.pick(['-1S', 'abc', '99999999999H', '1x']) } }),
    () => ({ kind: 'many messages then garbage', body: Buffer.concat([frame(good), frame(good), rng.bytes(7)]) }),
    () => ({ kind: 'never ends (client resets)', body: frame(good, 0, good.length + 10), end: false }),
  ];
  const k = rng.pick(kinds)();
  return { kind: `${k.kind} @ ${path.replace('/dagger.exec.Exec/', '')}`, headers: { ...headers, ...k.headers }, body: k.body, end: k.end ?? true };
}

type Answer = 'grpc-status' | 'http-status' | 'reset' | 'closed' | 'subscribed' | 'hung';

/** Sends one malformed request on its own HTTP/2 connection; settles with how the server answered. */
function send(address: string, m: ReturnType<typeof malformed>): Promise<{ answer: Answer; grpcStatus?: string; details?: string; http?: number }> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://${address}`);
    let done = false;
    let http: number | undefined;
    const finish = (r: { answer: Answer; grpcStatus?: string; details?: string; http?: number }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      session.destroy();
      resolve(r);
    };
    // A request the server never answers is a hang: bounded (HUNG_MS, far beyond any answer: no claim
    // about speed), then reported as 'hung'. A lifecycle request that decoded is a live subscription
    // (grpc-js sends headers with the first event): still open after a second, it is 'subscribed' and
    // the client leaves. A request that never ends is given up by the client itself after 500 ms (below):
    // no hang timer of its own, which a stall of this process could fire first (Node runs due timers
    // list by list, so a 1.5 s timer may run before a later-set 500 ms one) and call the server hung.
    const subscription = m.headers[':path'] === LIFECYCLE_PATH;
    const timer = m.end || subscription ? setTimeout(() => finish({ answer: subscription ? 'subscribed' : 'hung' }), subscription ? 1000 : HUNG_MS) : undefined;
    session.on('error', () => finish({ answer: 'closed' }));
    session.on('goaway', () => undefined);
    const req = session.request(m.headers);
    req.on('response', (h) => {
      http = Number(h[':status']);
      if (h['grpc-status'] !== undefined)
        finish({ answer: 'grpc-status', grpcStatus: String(h['grpc-status']), details: decodeURIComponent(String(h['grpc-message'] ?? '')), http });
    });
    req.on('trailers', (t) =>
      finish({ answer: 'grpc-status', grpcStatus: String(t['grpc-status']), details: decodeURIComponent(String(t['grpc-message'] ?? '')), http }),
    );
    req.on('data', () => undefined);
    req.on('close', () => finish(http && http !== 200 ? { answer: 'http-status', http } : { answer: req.rstCode ? 'reset' : 'closed' }));
    req.on('error', () => finish({ answer: 'reset' }));
    req.write(m.body);
    if (m.end) req.end();
    else setTimeout(() => finish({ answer: 'reset' }), 500); // the client gives up; the server must not care
  });
}

it('malformed HTTP/2 and gRPC framing: every request is answered (gRPC error, HTTP error or reset), the service lives and serves exact bytes', async () => {
  const rng = new Prng(SEED);
  await probeSession(s);
  const before = processUsage(s.pid());
  const answers: Record<string, number> = {};
  const codesByKind: Record<string, Record<string, number>> = {};
  const detailsByAnswer: Record<string, string> = {}; // one example message per answer
  const bad: Array<{ kind: string; answer: string; details?: string }> = [];
  const t0 = Date.now();
  let garbageConnections = 0;
  const sent = await runPool(
    CONNECTIONS,
    8,
    async () => {
      if (rng.bool(0.05)) {
        // Not HTTP/2 at all: the server closes the connection.
        garbageConnections++;
        const junk = rng.bytes(1 + rng.int(500));
        await new Promise<void>((resolve) => {
          const [host, port] = s.svc.address.split(':');
          const sock = net.connect(Number(port), host, () => sock.end(junk));
          sock.on('data', () => undefined);
          sock.on('close', () => resolve());
          sock.on('error', () => resolve());
          sock.setTimeout(10_000, () => sock.destroy());
        });
        tally(answers, 'garbage connection closed');
        return;
      }
      const m = malformed(rng);
      const r = await send(s.svc.address, m);
      const key = r.answer === 'grpc-status' ? `grpc-status ${r.grpcStatus}` : r.answer === 'http-status' ? `http ${r.http}` : r.answer;
      tally(answers, key);
      if (r.details) detailsByAnswer[key] ??= `${r.details.slice(0, 120)} (${m.kind})`;
      tally((codesByKind[m.kind] ??= {}), key);
      // Never a hang, never UNKNOWN, never UNAVAILABLE (Docker is up: a bad request is not an outage),
      // never the service's own INTERNAL (an error escaping a handler), never INTERNAL for request bytes
      // that do not decode (the service answers those INVALID_ARGUMENT). grpc-js's own framing errors
      // (e.g. an invalid grpc-timeout header) are INTERNAL and allowed: the request never reached the service.
      const internalOfOurs = /^internal error|deserializing request/i.test(r.details ?? '');
      if (r.answer === 'hung' || r.grpcStatus === '2' || r.grpcStatus === '14' || internalOfOurs) bad.push({ kind: m.kind, answer: key, details: r.details });
    },
    () => !alive(s.pid()),
  );
  const aliveAfter = alive(s.pid());
  const probe = aliveAfter ? await probeSession(s) : undefined;
  if (aliveAfter) await waitFor(() => processUsage(s.pid()).fds <= before.fds + 8, 15_000);
  const after = aliveAfter ? processUsage(s.pid()) : undefined;
  recordFigures('malformed-frames', {
    seed: SEED,
    connections: sent,
    garbageConnections,
    answers,
    detailsByAnswer,
    codesByKind,
    bad: bad.slice(0, 20),
    before,
    after,
    aliveAfter,
    probe,
    ms: Date.now() - t0,
  });
  expect(bad).toEqual([]);
  expect(aliveAfter).toBe(true);
  expect(probe).toEqual({ alive: true, exact: true, exitCode: 3 });
  expect(after!.fds).toBeLessThanOrEqual(before.fds + 8);
});
