import { credentials, makeGenericClientConstructor, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlClient, ExecClient, GRPCConnectionManager } from '@exec-stream/client';
import { buildService, childService, type ChildService } from './support/child-service';
import { waitUntil } from './support/conditions';
import { grpcError, sha256 } from './support/helpers';
import { BASE_IMAGE } from './support/server';

/**
 * The logs as an operator reads them (docs/OPERATIONS.md): the built service's pino lines, from a real
 * session's Start to its exit, joined by request id and session id; refusals and client mistakes at warn
 * with the peer address and the token's name (never the token), one line per call, rate limited; `code`
 * always a status name.
 */
const ROOT = join(__dirname, '..');
const RUNNER = 'ops-runner-token-5b1f0c2e9d7a4836';
const READER = 'ops-reader-token-0d9e8f7a6b5c4d3e';
type Line = Record<string, unknown>;

let svc: ChildService;
const dir = mkdtempSync(join(tmpdir(), 'exec-stream-operator-logs-'));
const connections: GRPCConnectionManager[] = [];
/** A connection with `token` whose every call carries `x-request-id: requestId` (none when undefined). */
function client(token: string, requestId?: string) {
  const c = new GRPCConnectionManager({ address: svc.address, token });
  if (requestId) c.getMetadata().set('x-request-id', requestId);
  connections.push(c);
  return { exec: new ExecClient(c), control: new ControlClient(c) };
}

beforeAll(async () => {
  buildService();
  const file = join(dir, 'tokens.json');
  writeFileSync(
    file,
    JSON.stringify([
      { name: 'runner', sha256: sha256(RUNNER), scopes: ['run', 'read', 'control'] },
      { name: 'reader', sha256: sha256(READER), scopes: ['read'] },
    ]),
  );
  svc = await childService({ EXEC_AUTH_TOKENS_FILE: file, EXEC_LOG_LEVEL: 'debug' });
  await svc.start();
}, 60_000);

afterAll(async () => {
  for (const c of connections) c.close();
  await svc?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const PEER = /^127\.0\.0\.1:\d+$/;
const INFO = 30;
const WARN = 40;

it('reads a session from Start to exit: every line joins it by request id or session id, and the call lines carry both', async () => {
  const from = svc.logs.length;
  // The starter (its stdin open), then a second client of the same session with a request id of its own.
  const starter = client(RUNNER, 'ops-start-1').exec.run(BASE_IMAGE, { command: ['sh', '-c', 'read x; echo "got $x"; echo err >&2; exit 3'], openStdin: true });
  const { sessionId } = await starter.ready;
  const second = client(RUNNER, 'ops-attach-2').exec.attach({ sessionId });
  await second.ready;
  await starter.write(Buffer.from('hi\n'));
  starter.closeStdin();
  const [a, b] = await Promise.all([starter.collect(), second.collect()]);
  expect([a, b].map((r) => [r.stdout.toString(), r.stderr.toString(), r.exitCode])).toEqual([
    ['got hi\n', 'err\n', 3],
    ['got hi\n', 'err\n', 3],
  ]);
  const requestIds = ['ops-start-1', 'ops-attach-2'];
  const ends = await waitUntil('both calls ended in the log', () => {
    const found = svc.logs.slice(from).filter((l) => l.msg === 'call ended' && requestIds.includes(l.requestId as string));
    return found.length === 2 && found;
  });
  const window = svc.logs.slice(from, svc.logs.indexOf(ends[1]) + 1);

  // Each call's end: info, OK, its own request id, the session, the peer, the token's name.
  for (const requestId of requestIds) {
    expect(ends.find((l) => l.requestId === requestId)).toMatchObject({
      level: INFO,
      method: 'Session',
      code: 'OK',
      sessionId,
      peer: expect.stringMatching(PEER),
      token: 'runner',
      callId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      ms: expect.any(Number),
    });
  }
  // Every line of the window is about this session or about one of its two calls: none is left unjoined.
  const unjoined = window.filter((l) => l.sessionId !== sessionId && !requestIds.includes(l.requestId as string));
  expect(unjoined).toEqual([]);
  // A call's lines carry its request id, peer and token name throughout, and the session once it is known.
  const callLines = window.filter((l) => requestIds.includes(l.requestId as string));
  for (const l of callLines) expect(l).toMatchObject({ peer: expect.stringMatching(PEER), token: 'runner', sessionId });
  // The session's own lines (the container, the exit) carry its id; the join points carry both ids.
  const sessionLines = window.filter((l) => l.sessionId === sessionId && l.requestId === undefined).map((l) => l.msg);
  expect(sessionLines).toEqual(expect.arrayContaining(['container started', 'session finished']));
  expect(callLines.filter((l) => l.msg === 'Session started').map((l) => [l.requestId, l.mode])).toEqual([
    ['ops-start-1', 'run'],
    ['ops-attach-2', 'attach'],
  ]);
  expect(JSON.stringify(svc.logs)).not.toContain(RUNNER);
});

it('logs a refusal at warn, once, with the peer address and the token name (null for an unknown token), never the token', async () => {
  const from = svc.logs.length;
  const wrong = await grpcError(client('not-a-token-at-all-123456', 'ops-refused-1').control.status('deadbeefdeadbeef'));
  expect(wrong.code).toBe(status.UNAUTHENTICATED);
  const denied = await grpcError(client(READER, 'ops-refused-2').control.pause('deadbeefdeadbeef'));
  expect(denied.code).toBe(status.PERMISSION_DENIED);
  // The handler's refusal (Session's scope depends on its Start) and a client mistake end at warn as well.
  const run = await grpcError(
    client(READER, 'ops-refused-3')
      .exec.run(BASE_IMAGE, { command: ['true'] })
      .wait(),
  );
  expect(run.code).toBe(status.PERMISSION_DENIED);
  const bad = await grpcError(client(RUNNER, 'ops-mistake-4').control.status('not an id!'));
  expect(bad.code).toBe(status.INVALID_ARGUMENT);
  const lines = await waitUntil('four call lines', () => {
    const mine = svc.logs.slice(from).filter((l) => /^ops-(refused|mistake)-/.test(String(l.requestId)));
    return mine.length >= 4 && mine;
  });
  expect(lines.map((l) => [l.requestId, l.level, l.msg, l.code, l.token])).toEqual([
    ['ops-refused-1', WARN, 'call refused', 'UNAUTHENTICATED', null],
    ['ops-refused-2', WARN, 'call refused', 'PERMISSION_DENIED', 'reader'],
    ['ops-refused-3', WARN, 'call ended', 'PERMISSION_DENIED', 'reader'],
    ['ops-mistake-4', WARN, 'call ended', 'INVALID_ARGUMENT', 'runner'],
  ]);
  for (const l of lines) expect(l).toMatchObject({ peer: expect.stringMatching(PEER), details: expect.any(String) });
  expect(lines[0].authorization).toBe('unknown token');
  expect(JSON.stringify(svc.logs)).not.toMatch(/not-a-token-at-all|ops-reader-token/);
});

it('rate limits refusals: a flood of bad tokens writes at most 20 lines per 10 s', async () => {
  const from = svc.logs.length;
  const { control } = client('flood-token-that-is-wrong-000', 'ops-flood');
  const codes = await Promise.all(Array.from({ length: 60 }, () => grpcError(control.status('deadbeefdeadbeef')).then((e) => e.code)));
  expect(new Set(codes)).toEqual(new Set([status.UNAUTHENTICATED]));
  const refused = svc.logs.slice(from).filter((l) => l.msg === 'call refused' && l.requestId === 'ops-flood');
  expect(refused.length).toBeGreaterThan(0);
  expect(refused.length).toBeLessThanOrEqual(20);
});

it('sends the request id back, the one it made when the client sent none, which its log line carries', async () => {
  const from = svc.logs.length;
  const Exec = makeGenericClientConstructor({}, 'Exec');
  const raw = new Exec(svc.address, credentials.createInsecure());
  const md = new Metadata();
  md.set('authorization', `Bearer ${RUNNER}`);
  const err = await new Promise<ServiceError>((resolve) =>
    raw.makeUnaryRequest(
      '/dagger.exec.Exec/ContainerStatus',
      () => Buffer.from([0x0a, 0x10, ...Buffer.from('deadbeefdeadbeef')]), // container_id (field 1)
      (b: Buffer) => b,
      {},
      md,
      (e) => resolve(e!),
    ),
  );
  raw.close();
  expect(err.code).toBe(status.NOT_FOUND);
  const sent = err.metadata.get('x-request-id')[0];
  expect(sent).toMatch(/^[0-9a-f-]{36}$/);
  const line = await waitUntil('the call line', () => svc.logs.slice(from).find((l) => l.msg === 'call ended' && l.method === 'ContainerStatus'));
  expect(line).toMatchObject({ requestId: sent, callId: sent, code: 'NOT_FOUND', level: WARN });
});

it('writes `code` as a status name on every line that has one', () => {
  const coded = svc.logs.filter((l: Line) => 'code' in l);
  expect(coded.length).toBeGreaterThan(5);
  expect(coded.filter((l) => typeof l.code !== 'string' || !/^[A-Z_]+$/.test(l.code))).toEqual([]);
});

it('quotes in docs/OPERATIONS.md only log messages the service writes', () => {
  const source = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
    .map((f) => readFileSync(join(ROOT, 'src', f), 'utf8'))
    .join('\n');
  // The first column of each table: the lines to look at, each message in backticks (`…` stands for any text).
  const cells = readFileSync(join(ROOT, 'docs/OPERATIONS.md'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| look at') && !l.startsWith('|---'))
    .map((l) => l.split(' | ')[0]);
  const messages = cells.flatMap((c) => [...c.matchAll(/`([^`]+)`/g)].map((m) => m[1])).filter((m) => m.includes(' '));
  expect(messages.length).toBeGreaterThanOrEqual(15);
  const missing = messages.filter(
    (m) =>
      !new RegExp(
        m
          .split('…')
          .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*'),
      ).test(source),
  );
  expect(missing).toEqual([]);
});
