/**
 * docs/PROTOCOL.md, "Errors": every row of the error table, driven against the real service (real
 * Docker, real gRPC on loopback; a byte-for-byte proxy in front of Docker where the engine has to fail
 * or be slow, a real registry for credentials), each status checked where it arrives: its code, its
 * ErrorInfo reason, its resource, its RetryInfo. The table and ERROR_REASONS are held equal, and at the
 * end every status as it came off the wire is decoded again by the packed client package in a project
 * of its own (test/support/packed-client.ts), as a consumer would.
 */
import { status as Code, type ServiceError } from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ControlClient,
  ERROR_REASONS,
  ExecClient,
  FileClient,
  GRPCConnectionManager,
  toExecError,
  type ErrorReason,
  type ExecError,
} from '@exec-stream/client';
import { STATUS_DETAILS_KEY } from '@exec-stream/client/wire';
import { SessionDrain } from '../src/exec/session';
import { DockerSocketProxy } from './support/docker-socket-proxy';
import { docker, managedLabels } from './support/helpers';
import { compileConsumer, packedClient, runProgram } from './support/packed-client';
import { BASE_IMAGE, freePort, NOCMD_IMAGE, startTestServer, type TestServer } from './support/server';
import { smallTar } from './support/tar';

jest.setTimeout(60_000);

const FULL = `full-${randomBytes(12).toString('hex')}`;
const READER = `reader-${randomBytes(12).toString('hex')}`;
const sha = (t: string) => createHash('sha256').update(t).digest('hex');

/** Rows this file cannot drive, and where they are driven or why they are not. */
const NOT_DRIVEN: Partial<Record<ErrorReason, string>> = {
  EXEC_NOT_SIGNALLABLE: "needs an image without kill and a service that cannot see the host's /proc",
  DATA_DIR_FULL: 'needs a full file system: test/reliability/full-disk.rel-spec.ts (tmpfs, root)',
  FILE_DESCRIPTORS_EXHAUSTED: 'needs a service out of fds: test/reliability/fd-exhaustion.rel-spec.ts (prlimit)',
  AUDIT_TRAIL_FULL: "needs the trail's disk full: test/audit/audit-trail-disk.e2e-spec.ts (tmpfs, root)",
  AUDIT_TRAIL_UNWRITABLE:
    'needs a trail the service cannot write but could open: root ignores permissions, and a tmpfs with the trail open for writing cannot be remounted read-only',
  CLIENT_CANCELLED: 'the client that cancels is sent no status: the reason is what the call log says',
  INTERNAL: 'a defect: nothing provokes one on purpose',
};

/** A row of PROTOCOL.md's error table. */
interface Row {
  reason: string;
  code: string;
  resources: string[];
  retry: boolean;
}

function documentedRows(): Row[] {
  const doc = readFileSync(join(__dirname, '..', 'docs', 'PROTOCOL.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Errors'), doc.indexOf('**Docker deadlines.**'));
  return section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => {
      const [reason, code, resource, retry] = l
        .split('|')
        .slice(1, 5)
        .map((c) => c.trim());
      return { reason: reason.replace(/`/g, ''), code, resources: resource === '—' ? [] : resource.split(' or '), retry: retry === 'yes' };
    });
}

/** Each status as it came off the wire, for the packed package to decode at the end. */
const captured: Array<{ row: ErrorReason; code: number; details: string; bin?: string }> = [];

/** The call's error, which must be `row`'s: its code, reason, resource type and retry as the list says. */
async function expectRow(row: ErrorReason, call: Promise<unknown>): Promise<ExecError> {
  let e: ExecError;
  try {
    const value = await call;
    throw new Error(`expected ${row}, the call succeeded: ${JSON.stringify(value)}`);
  } catch (err) {
    if (typeof (err as ServiceError).code !== 'number') throw err;
    e = toExecError(err) as ExecError;
  }
  const bin = e.metadata.get(STATUS_DETAILS_KEY)[0];
  captured.push({ row, code: e.code, details: e.details, bin: Buffer.isBuffer(bin) ? bin.toString('base64') : undefined });
  const listed = ERROR_REASONS[row];
  expect({ reason: e.reason, code: Code[e.code], domain: e.domain, retryable: e.retryable }).toEqual({
    reason: row,
    code: Code[listed.code],
    domain: 'exec-stream',
    retryable: listed.retry,
  });
  if (e.resource) expect(listed.resources as readonly string[]).toContain(e.resource.type);
  return e;
}

function tokensFile(dir: string): string {
  const file = join(dir, 'tokens.json');
  writeFileSync(
    file,
    JSON.stringify([
      { name: 'full', sha256: sha(FULL), scopes: ['read', 'run', 'control'] },
      { name: 'reader', sha256: sha(READER), scopes: ['read'] },
    ]),
  );
  return file;
}

let tmp: string;
let s1: TestServer;
/** s1 with the token of all scopes; its raw grpc-js client sends what the package never would (a message out of order, bytes that are not one). */
let connection: GRPCConnectionManager;
let exec: ExecClient;
let control: ControlClient;
let files: FileClient;
/** A `sleep` run of s1 that the rows about a running container use. */
let running: { sessionId: string; containerId: string };
const fixtures: string[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'error-details-'));
  s1 = await startTestServer({ EXEC_AUTH_TOKENS_FILE: tokensFile(tmp) });
  connection = new GRPCConnectionManager({ address: s1.address, token: FULL });
  exec = new ExecClient(connection);
  control = new ControlClient(connection);
  files = new FileClient(connection);
  const sleeper = exec.run(BASE_IMAGE, { command: ['sleep', '120'] });
  running = await sleeper.ready;
  void sleeper.wait().catch(() => undefined);
});
afterAll(async () => {
  if (fixtures.length) execFileSync('docker', ['rm', '-f', ...fixtures], { stdio: 'ignore' });
  connection?.close();
  await s1?.close();
  rmSync(tmp, { recursive: true, force: true });
});

it("PROTOCOL.md's error table is ERROR_REASONS: every reason, its code, its resource and its retry, nothing else", () => {
  const rows = documentedRows();
  expect(rows.map((r) => r.reason)).toEqual(Object.keys(ERROR_REASONS));
  for (const r of rows) {
    const listed = ERROR_REASONS[r.reason as ErrorReason];
    expect({ ...r }).toEqual({ reason: r.reason, code: Code[listed.code], resources: [...listed.resources], retry: listed.retry });
  }
});

describe('INVALID_ARGUMENT', () => {
  it('FIELD_INVALID names the field (BadRequest)', async () => {
    const e = await expectRow('FIELD_INVALID', control.signal(running.containerId, 'SIGNOPE'));
    expect(e.fieldViolations).toEqual([{ field: 'signal', description: expect.stringContaining('unknown signal') }]);
    const many = await expectRow('FIELD_INVALID', exec.run(BASE_IMAGE, { command: ['true'], user: 'a b', workingDir: 'relative' }).ready);
    expect(many.fieldViolations.map((v) => v.field).sort()).toEqual(['start.user', 'start.working_dir']);
  });

  it('UNEXPECTED_MESSAGE: a Session whose first message is not Start', async () => {
    const call = connection.getClient().Session(connection.metadataFor());
    const ended = new Promise((_, reject) => call.on('error', reject));
    call.on('data', () => undefined);
    call.write({ stdin: Buffer.from('x') });
    await expectRow('UNEXPECTED_MESSAGE', ended);
  });

  it('MESSAGE_UNDECODABLE: request bytes that are not the message', async () => {
    const raw = connection.getClient();
    const ended = new Promise((resolve, reject) =>
      raw.makeUnaryRequest(
        '/dagger.exec.Exec/ContainerStatus',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from([0x0f, 0xff]),
        connection.metadataFor(),
        (err) => (err ? reject(err) : resolve('accepted')),
      ),
    );
    await expectRow('MESSAGE_UNDECODABLE', ended);
  });

  it('REJECTED_BY_DOCKER: more CPUs than the host has', async () => {
    await expectRow('REJECTED_BY_DOCKER', exec.run(BASE_IMAGE, { command: ['true'], cpus: 4096 }).ready);
  });
});

describe('ALREADY_EXISTS, NOT_FOUND', () => {
  it('REQUEST_ID_CONFLICT names the session the request_id belongs to', async () => {
    const requestId = `conflict-${randomUUID()}`;
    const first = exec.run(BASE_IMAGE, { command: ['true'], requestId });
    const { sessionId } = await first.ready;
    await first.wait();
    const e = await expectRow('REQUEST_ID_CONFLICT', exec.run(BASE_IMAGE, { command: ['false'], requestId }).ready);
    expect(e.resource).toEqual({ type: 'session', name: sessionId });
  });

  it('IMAGE_NOT_FOUND, CONTAINER_NOT_FOUND, SESSION_NOT_FOUND, EXEC_NOT_FOUND, PATH_NOT_FOUND: each names what is missing', async () => {
    const image = 'exec-stream/no-such-image:latest';
    expect((await expectRow('IMAGE_NOT_FOUND', exec.run(image, { command: ['true'] }).ready)).resource).toEqual({ type: 'image', name: image });
    expect((await expectRow('CONTAINER_NOT_FOUND', control.status('0123456789ab'))).resource).toEqual({ type: 'container', name: '0123456789ab' });
    const sessionId = `${s1.config.EXEC_REPLICA_ID}.${randomUUID()}`;
    expect((await expectRow('SESSION_NOT_FOUND', exec.attach({ sessionId }).ready)).resource).toEqual({ type: 'session', name: sessionId });
    const execId = 'a'.repeat(64);
    expect((await expectRow('EXEC_NOT_FOUND', control.signal(running.containerId, 'SIGTERM', execId))).resource).toMatchObject({ type: 'exec' });
    const e = await expectRow('PATH_NOT_FOUND', files.copyFrom(running.containerId, '/no/such/path'));
    expect(e.resource).toEqual({ type: 'path', name: '/no/such/path', owner: running.containerId });
  });
});

describe('FAILED_PRECONDITION', () => {
  it('CONTAINER_NOT_RUNNING (with its state), CONTAINER_PAUSED, CONTAINER_NOT_PAUSED', async () => {
    const created = docker('create', ...managedLabels(s1.config.EXEC_REPLICA_ID), BASE_IMAGE, 'true');
    fixtures.push(created);
    const e = await expectRow('CONTAINER_NOT_RUNNING', control.pause(created));
    expect(e).toMatchObject({ resource: { type: 'container', name: created }, info: { state: 'created' } });
    await expectRow('CONTAINER_NOT_PAUSED', control.resume(running.containerId));
    await control.pause(running.containerId);
    try {
      expect((await expectRow('CONTAINER_PAUSED', control.pause(running.containerId))).resource).toEqual({ type: 'container', name: running.containerId });
      await expectRow('CONTAINER_PAUSED', control.signal(running.containerId, 'SIGTERM'));
    } finally {
      await control.resume(running.containerId);
    }
  });

  it('EXEC_NOT_RUNNING: a signal to an exec that has ended', async () => {
    const done = exec.exec(running.containerId, { command: ['true'] });
    const { execId } = await done.ready;
    expect(await done.wait()).toBe(0);
    const e = await expectRow('EXEC_NOT_RUNNING', control.signal(running.containerId, 'SIGTERM', execId));
    expect(e.resource).toMatchObject({ type: 'exec', name: execId });
  });

  it('STDIN_NOT_OPEN, NOT_A_TTY: input the session cannot take ends the call that sent it', async () => {
    const noStdin = exec.run(BASE_IMAGE, { command: ['sleep', '60'] });
    const a = await noStdin.ready;
    await noStdin.write(Buffer.from('x'));
    expect((await expectRow('STDIN_NOT_OPEN', noStdin.exit)).resource).toEqual({ type: 'session', name: a.sessionId });
    const noTty = exec.run(BASE_IMAGE, { command: ['sleep', '60'] });
    const b = await noTty.ready;
    noTty.resize(100, 30);
    expect((await expectRow('NOT_A_TTY', noTty.exit)).resource).toEqual({ type: 'session', name: b.sessionId });
  });

  it('READ_ONLY_ROOTFS: a CopyTo into a read-only container', async () => {
    const ro = exec.run(BASE_IMAGE, { command: ['sleep', '60'], readOnlyRootfs: true });
    const { containerId } = await ro.ready;
    const e = await expectRow('READ_ONLY_ROOTFS', files.copyTo(containerId, '/', [smallTar({ 'x.txt': 'x' })]));
    expect(e.resource).toEqual({ type: 'container', name: containerId });
  });

  it('SESSION_RUNNING: RemoveSession of a running session without force', async () => {
    const e = await expectRow('SESSION_RUNNING', control.removeSession(running.sessionId));
    expect(e.resource).toEqual({ type: 'session', name: running.sessionId });
  });
});

describe('PERMISSION_DENIED, UNAUTHENTICATED', () => {
  it('SCOPE_MISSING says which scope and token; TOKEN_INVALID', async () => {
    const reader = new GRPCConnectionManager({ address: s1.address, token: READER });
    const wrong = new GRPCConnectionManager({ address: s1.address, token: `${FULL}x` });
    try {
      const e = await expectRow('SCOPE_MISSING', new ControlClient(reader).pause(running.containerId));
      expect(e.info).toMatchObject({ scope: 'control', token: 'reader' });
      await expectRow('TOKEN_INVALID', new ControlClient(wrong).status(running.containerId));
    } finally {
      reader.close();
      wrong.close();
    }
  });

  it('CONTAINER_NOT_MANAGED: a container this service did not create', async () => {
    const foreign = docker('create', '--network', 'none', BASE_IMAGE, 'true');
    fixtures.push(foreign);
    expect((await expectRow('CONTAINER_NOT_MANAGED', control.status(foreign))).resource).toEqual({ type: 'container', name: foreign });
  });

  it('NOT_SESSION_WRITER: stdin from a client that only attached', async () => {
    const starter = exec.run(BASE_IMAGE, { command: ['sleep', '60'], openStdin: true });
    const { sessionId } = await starter.ready;
    const other = exec.attach({ sessionId });
    await other.ready;
    await other.write(Buffer.from('x'));
    expect((await expectRow('NOT_SESSION_WRITER', other.exit)).resource).toEqual({ type: 'session', name: sessionId });
    starter.cancel();
  });

  it('REGISTRY_AUTH_FAILED: a registry that wants credentials the Start does not bring', async () => {
    const port = await freePort();
    execFileSync('bash', ['scripts/registry.sh', 'start', String(port), 'exec-stream', randomBytes(8).toString('hex')], { encoding: 'utf8' });
    try {
      const image = `127.0.0.1:${port}/busybox:auth`;
      const e = await expectRow('REGISTRY_AUTH_FAILED', exec.run(image, { command: ['true'], pull: 'always' }).ready);
      expect(e).toMatchObject({ resource: { type: 'image', name: image }, info: { registry: `127.0.0.1:${port}` } });
      const gone = `127.0.0.1:${await freePort()}/busybox:gone`;
      await expectRow('REGISTRY_UNAVAILABLE', exec.run(gone, { command: ['true'], pull: 'always' }).ready);
    } finally {
      execFileSync('bash', ['scripts/registry.sh', 'stop', String(port)]);
    }
  });
});

it('OUTPUT_DAMAGED: a chunk on disk that fails its checksum is never served', async () => {
  const s = exec.run(BASE_IMAGE, { command: ['echo', 'hello'] });
  const { sessionId } = await s.ready;
  expect(await s.wait()).toBe(0);
  const stdout = join(s1.dataDir, 'sessions', sessionId, 'stdout');
  writeFileSync(stdout, 'HELLO\n');
  expect((await expectRow('OUTPUT_DAMAGED', exec.attach({ sessionId }).wait())).resource).toEqual({ type: 'session', name: sessionId });
});

describe('INVALID_ARGUMENT, among the sessions the rows above left', () => {
  it('ID_AMBIGUOUS: a prefix two retained sessions share, with the container as resource', async () => {
    // The distinct containers of the sessions s1 retains (the rows above left several: two of them share
    // a first character most of the time), then more runs only until two do.
    const listed = (await control.listSessions({})).sessions ?? [];
    const ids = [...new Set([running.containerId, ...listed.map((s) => s.container_id ?? '')].filter(Boolean))];
    let prefix = ids.map((id) => id[0]).find((c, j, all) => all.indexOf(c) !== j);
    while (!prefix) {
      const s = exec.run(BASE_IMAGE, { command: ['true'] });
      ids.push((await s.ready).containerId);
      await s.wait();
      prefix = ids.map((id) => id[0]).find((c, j, all) => all.indexOf(c) !== j);
    }
    const e = await expectRow('ID_AMBIGUOUS', control.status(prefix));
    expect(e.resource).toEqual({ type: 'container', name: prefix });
  });
});

describe('limits, stalls and a shutdown (a service with EXEC_MAX_SESSIONS=1, EXEC_MAX_CLIENTS_PER_SESSION=1), then a restart without Docker', () => {
  it('SESSION_LIMIT, CLIENT_LIMIT, COPY_STALLED, REGISTRY_AUTH_FILE_UNREADABLE, SHUTTING_DOWN; then OUTCOME_LOST, DOCKER_UNREACHABLE, REPLICA_UNAVAILABLE, DATA_DIR_UNWRITABLE', async () => {
    const authFile = join(tmp, 'config.json');
    writeFileSync(authFile, JSON.stringify({ auths: {} }));
    const s2 = await startTestServer({
      EXEC_MAX_SESSIONS: '1',
      EXEC_MAX_CLIENTS_PER_SESSION: '1',
      EXEC_COPY_STALL_MS: '300',
      EXEC_REGISTRY_AUTH_FILE: authFile,
    });
    let s3: TestServer | undefined;
    let containerId = '';
    try {
      const held = s2.client.run(BASE_IMAGE, { command: ['sleep', '120'] });
      const ready = await held.ready;
      containerId = ready.containerId;
      await expectRow('SESSION_LIMIT', s2.client.run(BASE_IMAGE, { command: ['true'] }).ready);
      expect((await expectRow('CLIENT_LIMIT', s2.client.attach({ sessionId: ready.sessionId }).ready)).resource).toEqual({
        type: 'session',
        name: ready.sessionId,
      });
      const never: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<Uint8Array>>(() => undefined) }) };
      await expectRow('COPY_STALLED', new FileClient(s2.connection).copyTo(containerId, '/tmp', never));
      rmSync(authFile);
      await expectRow('REGISTRY_AUTH_FILE_UNREADABLE', s2.client.run('127.0.0.1:9/busybox:x', { command: ['true'], pull: 'always' }).ready);
      // The service goes away as on SIGTERM (its drain, as Nest's signal hook runs it before the server
      // closes): files sealed, the container left for re-adoption, clients told.
      const told = expectRow('SHUTTING_DOWN', held.wait());
      await s2.app.get(SessionDrain).beforeApplicationShutdown('SIGTERM');
      await told;
      s2.connection.close();
      await s2.app.close();

      // The same data and replica id, without Docker: the session it left running cannot be re-adopted.
      const ghost = await freePort();
      s3 = await startTestServer({
        EXEC_DATA_DIR: s2.dataDir,
        EXEC_REPLICA_ID: s2.config.EXEC_REPLICA_ID,
        DOCKER_HOST: `unix://${join(tmp, 'no-docker.sock')}`,
        EXEC_PEERS: `ghost=127.0.0.1:${ghost}`,
      });
      expect((await expectRow('OUTCOME_LOST', s3.client.attach({ sessionId: ready.sessionId }).wait())).resource).toEqual({
        type: 'session',
        name: ready.sessionId,
      });
      await expectRow('DOCKER_UNREACHABLE', s3.client.run(BASE_IMAGE, { command: ['true'] }).ready);
      const e = await expectRow('REPLICA_UNAVAILABLE', s3.client.attach({ sessionId: `ghost.${randomUUID()}` }).ready);
      expect(e.info).toMatchObject({ replica: 'ghost' });
      // A data directory that cannot be written (immutable: not even root may add to it).
      execFileSync('chattr', ['+i', join(s2.dataDir, 'sessions')]);
      try {
        await expectRow('DATA_DIR_UNWRITABLE', s3.client.run(BASE_IMAGE, { command: ['true'] }).ready);
      } finally {
        execFileSync('chattr', ['-i', join(s2.dataDir, 'sessions')]);
      }
    } finally {
      await s3?.close();
      if (containerId) execFileSync('docker', ['rm', '-f', containerId], { stdio: 'ignore' });
      rmSync(s2.dataDir, { recursive: true, force: true });
    }
  });
});

describe('a cut-off, failing or slow Docker engine (a proxy in front of the real one)', () => {
  it("OUTPUT_INCOMPLETE: Docker's output stream cut inside a frame", async () => {
    const proxy = new DockerSocketProxy();
    const s4 = await startTestServer({ DOCKER_HOST: await proxy.listen() });
    try {
      // "ready\n" (8 + 6 bytes), then 5 bytes of the next frame.
      const cut = proxy.cutNextAttach(14 + 8 + 5);
      const s = s4.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo ready; echo more-output-line; sleep 1'] });
      const { sessionId } = await s.ready;
      await cut;
      expect((await expectRow('OUTPUT_INCOMPLETE', s.wait())).resource).toEqual({ type: 'session', name: sessionId });
    } finally {
      await s4.close();
      await proxy.close();
    }
  });

  it('DOCKER_ERROR: a 500 of the engine; DOCKER_TIMEOUT: no answer within EXEC_DOCKER_TIMEOUT_MS (1 s here)', async () => {
    const proxy = new DockerSocketProxy();
    const s5 = await startTestServer({ DOCKER_HOST: await proxy.listen(), EXEC_DOCKER_TIMEOUT_MS: '1000' });
    try {
      proxy.fail(/^GET \S*\/images\/exec-stream\/engine-error:latest\/json /, 500, 'engine exploded');
      await expectRow('DOCKER_ERROR', s5.client.run('exec-stream/engine-error:latest', { command: ['true'] }).ready);
      proxy.delay(/^GET \S*\/images\/exec-stream\/busybox-nocmd:latest\/json /, 3000);
      const e = await expectRow('DOCKER_TIMEOUT', s5.client.run(NOCMD_IMAGE, { command: ['true'] }).ready);
      expect(e.info).toMatchObject({ setting: 'EXEC_DOCKER_TIMEOUT_MS', request: `inspect of image ${NOCMD_IMAGE}` });
    } finally {
      await s5.close();
      await proxy.close();
    }
  });
});

it('every row is driven above or named in NOT_DRIVEN, and the packed client decodes each status as it came off the wire', async () => {
  const driven = new Set(captured.map((c) => c.row));
  expect(Object.keys(ERROR_REASONS).filter((r) => !driven.has(r as ErrorReason) && !NOT_DRIVEN[r as ErrorReason])).toEqual([]);
  expect([...driven].filter((r) => NOT_DRIVEN[r])).toEqual([]);
  const dir = compileConsumer(packedClient(), 'error-details', ['decode-errors.mts']);
  const { out } = await runProgram(join(dir, 'dist', 'decode-errors.mjs'), [], JSON.stringify(captured));
  const rows = new Map(documentedRows().map((r) => [r.reason, r]));
  for (const d of out.decoded as Array<Record<string, unknown>>) {
    const row = rows.get(d.row as string)!;
    expect({ row: d.row, code: d.code, reason: d.reason, listed: d.listed, domain: d.domain, retryable: d.retryable }).toEqual({
      row: row.reason,
      code: row.code,
      reason: row.reason,
      listed: true,
      domain: 'exec-stream',
      retryable: row.retry,
    });
    if (d.resource !== undefined) expect(row.resources).toContain(d.resource);
    if (d.row === 'FIELD_INVALID') expect((d.fields as string[]).length).toBeGreaterThan(0);
  }
});
