// Two replicas serving TLS with mTLS and tokens (docs/SCALING.md, auth and TLS): a replica dials its peer
// over mTLS (its own certificate, EXEC_PEER_TLS_CA) and passes on the caller's token, which the owner
// checks with its scopes. Certificates are made by openssl at test time; clients are our own over real
// TLS connections.
import { status as Code } from '@grpc/grpc-js';
import { ControlClient, ExecClient, GRPCConnectionManager, type ExecSession } from '@exec-stream/client';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa, makeCert, type Cert } from '../support/certs';
import { buildService, type ChildService } from '../support/child-service';
import { startCluster, type Cluster } from '../support/cluster';
import { grpcError, sha256 } from '../support/helpers';
import { BASE_IMAGE } from '../support/server';

const ADMIN = 'tls-cluster-admin-token-0123456789';
const READER = 'tls-cluster-reader-token-9876543210';

/**
 * A replica's certificate: a server certificate for its clients and a client certificate for its peers
 * (it presents the same one when it dials them), so both extended key usages; peers are dialled by IP.
 */
function replicaCert(ca: Cert): Cert {
  const dir = join(ca.certPath, '..');
  const ext = join(dir, 'replica.ext');
  writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ].join('\n') + '\n',
  );
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  execFileSync('openssl', ['req', '-new', ...ec, '-keyout', 'replica.key', '-out', 'replica.csr', '-subj', '/CN=exec-stream-replica'], {
    cwd: dir,
    stdio: 'pipe',
  });
  execFileSync(
    'openssl',
    ['x509', '-req', '-in', 'replica.csr', '-CA', ca.certPath, '-CAkey', ca.keyPath, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', 'replica.crt'],
    { cwd: dir, stdio: 'pipe' },
  );
  return { ...ca, certPath: join(dir, 'replica.crt'), keyPath: join(dir, 'replica.key'), cert: '', key: '' };
}

const ca = makeCa(); // makeCa first: it installs openssl when missing
const otherCa = makeCa();
const serverCert = replicaCert(ca);
const clientCert = makeCert(ca, { cn: 'a-client', client: true });
const tokensDir = mkdtempSync(join(tmpdir(), 'exec-stream-tls-cluster-'));
const tokensFile = join(tokensDir, 'tokens.json');
writeFileSync(tokensFile, JSON.stringify([{ name: 'dashboard', sha256: sha256(READER), scopes: ['read'] }]));
/** The same token with "control" as well: given to Y only, to show that X checks the scopes it knows. */
const generousTokensFile = join(tokensDir, 'tokens-generous.json');
writeFileSync(generousTokensFile, JSON.stringify([{ name: 'dashboard', sha256: sha256(READER), scopes: ['read', 'control'] }]));

let cluster: Cluster;
let X: ChildService;
let Y: ChildService;
const connections: GRPCConnectionManager[] = [];
/** A client of replica `r` over mTLS (trusting `ca`, presenting `clientCert`) with `token`. */
function via(r: ChildService, token: string) {
  const c = new GRPCConnectionManager({
    address: r.address,
    tls: { ca: ca.certPath, cert: clientCert.certPath, key: clientCert.keyPath },
    token,
    channelOptions: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 500 },
  });
  connections.push(c);
  return { exec: new ExecClient(c), control: new ControlClient(c) };
}
/** `seq a b` as the container prints it. */
const seqText = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${from + i}\n`).join('');
async function digestOf(s: ExecSession) {
  const r = await s.collect();
  return { stdout: sha256(r.stdout), stderr: sha256(r.stderr), exitCode: r.exitCode };
}

/** A container on X that runs until the suite ends. */
let sleeper: string;

beforeAll(async () => {
  buildService();
  cluster = await startCluster(['tl-x', 'tl-y'], {
    EXEC_TLS_CERT: serverCert.certPath,
    EXEC_TLS_KEY: serverCert.keyPath,
    EXEC_TLS_CLIENT_CA: ca.certPath,
    EXEC_PEER_TLS_CA: ca.certPath,
    EXEC_AUTH_TOKEN: ADMIN,
    EXEC_AUTH_TOKENS_FILE: tokensFile,
  });
  ({ 'tl-x': X, 'tl-y': Y } = cluster.replicas);
  sleeper = (await via(X, ADMIN).exec.run(BASE_IMAGE, { command: ['sleep', '600'] }).ready).containerId;
}, 300_000);
afterAll(async () => {
  connections.splice(0).forEach((c) => c.close());
  await cluster?.dispose();
});

it('a run on X attached through Y over mTLS with the token: byte-exact, the same exit code', async () => {
  const run = via(X, ADMIN).exec.run(BASE_IMAGE, { command: ['sh', '-c', 'sleep 1; seq 1 100000; seq 1 2000 >&2; exit 3'] });
  const { sessionId } = await run.ready;
  expect(sessionId).toMatch(/^tl-x\./);
  const [own, viaY] = await Promise.all([digestOf(run), digestOf(via(Y, ADMIN).exec.attach({ sessionId }))]);
  const expected = { stdout: sha256(seqText(1, 100000)), stderr: sha256(seqText(1, 2000)), exitCode: 3 };
  expect({ own, viaY }).toEqual({ own: expected, viaY: expected });
});

it('a read-scoped token attaches through Y to a run on X, but its ContainerPause through Y is PERMISSION_DENIED', async () => {
  const run = via(X, ADMIN).exec.run(BASE_IMAGE, { command: ['sh', '-c', 'seq 1 5000'] });
  const { sessionId } = await run.ready;
  await run.wait();
  expect(await digestOf(via(Y, READER).exec.attach({ sessionId, fromSequence: 1 }))).toEqual({
    stdout: sha256(seqText(1, 5000)),
    stderr: sha256(''),
    exitCode: 0,
  });
  const denied = await grpcError(via(Y, READER).control.pause(sleeper));
  expect({ code: Code[denied.code], details: denied.details }).toEqual({
    code: 'PERMISSION_DENIED',
    details: expect.stringContaining('needs scope "control"'),
  });
  expect((await via(Y, READER).control.status(sleeper)).status).toBe('running');
});

it('the owner checks the scopes itself: with Y granting the token "control", its ContainerPause forwarded to X is still denied by X', async () => {
  await Y.stop('SIGTERM');
  await Y.start({ EXEC_AUTH_TOKENS_FILE: generousTokensFile });
  const denied = await grpcError(via(Y, READER).control.pause(sleeper));
  // X's words: the token as X knows it (read only); Y would have let it through.
  expect({ code: Code[denied.code], details: denied.details }).toEqual({
    code: 'PERMISSION_DENIED',
    details: expect.stringMatching(/needs scope "control"; token "dashboard" has read$/),
  });
  expect((await via(X, ADMIN).control.status(sleeper)).status).toBe('running');
}, 60_000);

it("a wrong token through Y is UNAUTHENTICATED, for X's session and X's container", async () => {
  const { sessionId } = await via(X, ADMIN).exec.run(BASE_IMAGE, { command: ['true'] }).ready;
  const attach = await grpcError(via(Y, 'not-a-token-of-this-cluster').exec.attach({ sessionId }).wait());
  const status = await grpcError(via(Y, 'not-a-token-of-this-cluster').control.status(sleeper));
  expect([Code[attach.code], Code[status.code]]).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
});

it("Y trusting a CA that did not sign X's certificate: forwarding to X is UNAVAILABLE naming tl-x", async () => {
  const { sessionId } = await via(X, ADMIN).exec.run(BASE_IMAGE, { command: ['true'] }).ready;
  await Y.stop('SIGTERM');
  await Y.start({ EXEC_PEER_TLS_CA: otherCa.certPath });
  const err = await grpcError(via(Y, ADMIN).exec.attach({ sessionId }).wait());
  expect({ code: Code[err.code], details: err.details }).toEqual({
    code: 'UNAVAILABLE',
    details: expect.stringContaining(`replica tl-x (${X.address}) is unavailable`),
  });
  // X itself still serves it (its own session, no forwarding).
  expect((await via(X, ADMIN).control.status(sleeper)).status).toBe('running');
}, 60_000);
