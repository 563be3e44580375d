// TLS and mTLS (README configuration, docs/PROTOCOL.md auth): the real service over real TLS connections,
// with certificates made by openssl at test time; certificate rotation during a live session.
import { loadPackageDefinition, status, type ChannelCredentials, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { spawn } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { channelCredentials, ExecClient, GRPCConnectionManager, type ClientTlsOptions } from '@exec-stream/client';
import { makeCa, makeCert, type Cert } from './support/certs';
import { buildService } from './support/child-service';
import { backgroundReader, waitUntil } from './support/conditions';
import { grpcError, sha256 } from './support/helpers';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';

const TOKEN = 'tls-test-token-0123456789abcdef';
const SANS = ['IP:127.0.0.1', 'DNS:localhost'];

const ca = makeCa();
const otherCa = makeCa();
const serverCert = makeCert(ca, { cn: 'exec-stream', sans: SANS });
const clientCert = makeCert(ca, { cn: 'a-client', client: true });
const strangerCert = makeCert(otherCa, { cn: 'a-stranger', client: true });
/** A server certificate a replica (or the image's HEALTHCHECK) can also present as a client under mTLS. */
const dualCert = makeCert(ca, { cn: 'exec-stream', sans: SANS, extendedKeyUsage: 'serverAuth,clientAuth' });

/** Runs the image's HEALTHCHECK script (scripts/healthcheck.js) with this environment: its exit code and line. */
function healthcheck(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const childEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...env };
  const node = join(__dirname, '..', 'node_modules', '.bin', 'node');
  const proc = spawn(node, [join(__dirname, '..', 'scripts', 'healthcheck.js')], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, out })));
}

const managers: GRPCConnectionManager[] = [];
function clientFor(server: TestServer, tls?: ClientTlsOptions, token?: string): ExecClient {
  const c = new GRPCConnectionManager({ address: server.address, tls, token });
  managers.push(c);
  return new ExecClient(c);
}
afterEach(() => managers.splice(0).forEach((c) => c.close()));

/** `seq 1 n` as the container prints it. */
const seqText = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${from + i}\n`).join('');

/** The certificate a new TLS connection to the server is shown. */
function peerCertificate(address: string, caPem: string): Promise<{ fingerprint256: string; serialNumber: string }> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, ca: caPem, servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
      const peer = socket.getPeerCertificate();
      socket.destroy();
      resolve({ fingerprint256: peer.fingerprint256, serialNumber: peer.serialNumber });
    });
    socket.once('error', reject);
  });
}

type HealthClient = Client & { Check(req: object, cb: (e: ServiceError | null, r: { status: string }) => void): void };
function healthClient(address: string, creds: ChannelCredentials): HealthClient {
  const proto = join(__dirname, '..', 'node_modules', 'grpc-health-check', 'proto', 'health', 'v1', 'health.proto');
  const pkg = loadPackageDefinition(loadSync(proto, { enums: String })) as unknown as {
    grpc: { health: { v1: { Health: new (address: string, creds: ChannelCredentials) => HealthClient } } };
  };
  return new pkg.grpc.health.v1.Health(address, creds);
}

describe('TLS (EXEC_TLS_CERT, EXEC_TLS_KEY) with a token', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer({ EXEC_TLS_CERT: serverCert.certPath, EXEC_TLS_KEY: serverCert.keyPath, EXEC_AUTH_TOKEN: TOKEN })));
  afterAll(() => server?.close());

  it('runs a command byte-exact for a client trusting the CA (CA as a path), the token sent over TLS', async () => {
    const r = await clientFor(server, { ca: ca.certPath }, TOKEN)
      .run(BASE_IMAGE, { command: ['seq', '1', '50000'] })
      .collect();
    expect(r.exitCode).toBe(0);
    expect(sha256(r.stdout)).toBe(sha256(seqText(1, 50000)));
  });

  it('still requires the token over TLS (CA as PEM text)', async () => {
    const err = await grpcError(
      clientFor(server, { ca: ca.cert })
        .run(BASE_IMAGE, { command: ['true'] })
        .wait(),
    );
    expect(err.code).toBe(status.UNAUTHENTICATED);
  });

  it('a plaintext client against the TLS port fails UNAVAILABLE', async () => {
    const err = await grpcError(
      clientFor(server, undefined, TOKEN)
        .run(BASE_IMAGE, { command: ['true'] })
        .wait(),
    );
    expect(err.code).toBe(status.UNAVAILABLE);
  });

  it('a client that does not trust the CA fails UNAVAILABLE', async () => {
    const err = await grpcError(
      clientFor(server, { ca: otherCa.certPath }, TOKEN)
        .run(BASE_IMAGE, { command: ['true'] })
        .wait(),
    );
    expect(err.code).toBe(status.UNAVAILABLE);
  });

  it("the image's HEALTHCHECK speaks TLS when EXEC_TLS_CERT is set, trusting the server's own certificate", async () => {
    const env = { EXEC_LISTEN: server.address, EXEC_TLS_CERT: serverCert.certPath, EXEC_TLS_KEY: serverCert.keyPath };
    expect(await healthcheck(env)).toEqual({ code: 0, out: `exec-stream health ${server.address} (TLS) "": SERVING\n` });
    // It verifies: trusting another certificate, the handshake fails.
    expect(await healthcheck({ ...env, EXEC_TLS_CERT: strangerCert.certPath, EXEC_TLS_KEY: strangerCert.keyPath })).toMatchObject({
      code: 1,
      out: expect.stringContaining('UNAVAILABLE'),
    });
  });

  it('health answers SERVING over TLS without a token', async () => {
    const health = healthClient(server.address, channelCredentials({ ca: ca.cert }));
    try {
      const r = await new Promise<{ status: string }>((resolve, reject) => health.Check({ service: '' }, (e, v) => (e ? reject(e) : resolve(v))));
      expect(r.status).toBe('SERVING');
    } finally {
      health.close();
    }
  });
});

describe('mTLS (EXEC_TLS_CLIENT_CA)', () => {
  let server: TestServer;
  beforeAll(
    async () => (server = await startTestServer({ EXEC_TLS_CERT: dualCert.certPath, EXEC_TLS_KEY: dualCert.keyPath, EXEC_TLS_CLIENT_CA: ca.certPath })),
  );
  afterAll(() => server?.close());

  it("the image's HEALTHCHECK presents the server's own certificate as its client certificate", async () => {
    const env = { EXEC_LISTEN: server.address, EXEC_TLS_CERT: dualCert.certPath, EXEC_TLS_KEY: dualCert.keyPath, EXEC_TLS_CLIENT_CA: ca.certPath };
    expect(await healthcheck(env)).toMatchObject({ code: 0, out: expect.stringContaining('SERVING') });
  });

  it('serves a client with a certificate signed by the client CA', async () => {
    const r = await clientFor(server, { ca: ca.cert, cert: clientCert.certPath, key: clientCert.key })
      .run(BASE_IMAGE, { command: ['echo', 'mutual'] })
      .collect();
    expect(r.stdout.toString()).toBe('mutual\n');
  });

  it.each<[string, () => ClientTlsOptions]>([
    ['without a client certificate', () => ({ ca: ca.cert })],
    ['with a client certificate from another CA', () => ({ ca: ca.cert, cert: strangerCert.cert, key: strangerCert.key })],
  ])('refuses a client %s (UNAVAILABLE)', async (_n, tls) => {
    const err = await grpcError(
      clientFor(server, tls())
        .run(BASE_IMAGE, { command: ['true'] })
        .wait(),
    );
    expect(err.code).toBe(status.UNAVAILABLE);
  });
});

describe('certificate rotation', () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    // Files of their own, replaced during the test (as Kubernetes replaces a mounted Secret's files).
    const first = makeCert(ca, { cn: 'exec-stream', sans: SANS });
    dir = join(first.certPath, '..');
    writeFileSync(join(dir, 'live.crt'), first.cert);
    writeFileSync(join(dir, 'live.key'), first.key);
    server = await startTestServer({ EXEC_TLS_CERT: join(dir, 'live.crt'), EXEC_TLS_KEY: join(dir, 'live.key') });
  });
  afterAll(() => server?.close());

  it('new connections get the new certificate, while a live session goes on and ends byte-exact', async () => {
    const before = await peerCertificate(server.address, ca.cert);
    const live = clientFor(server, { ca: ca.cert }).run(BASE_IMAGE, { command: ['sh', '-c', 'seq 1 20000; read go; seq 20001 40000'], openStdin: true });
    const reader = backgroundReader(live.output());
    await reader.until('\n20000\n');

    const next: Cert = makeCert(ca, { cn: 'exec-stream', sans: SANS });
    expect(next.fingerprint256).not.toBe(before.fingerprint256);
    for (const [src, name] of [
      [next.cert, 'live.crt'],
      [next.key, 'live.key'],
    ]) {
      writeFileSync(join(dir, `${name}.tmp`), src);
      renameSync(join(dir, `${name}.tmp`), join(dir, name));
    }
    const after = await waitUntil('a new connection to show the new certificate', async () => {
      const peer = await peerCertificate(server.address, ca.cert);
      return peer.fingerprint256 === next.fingerprint256 && peer;
    });
    expect(after.serialNumber).toBe(next.serial);
    // A new gRPC channel handshakes with the new certificate and is served.
    expect(
      (
        await clientFor(server, { ca: ca.cert })
          .run(BASE_IMAGE, { command: ['echo', 'new'] })
          .collect()
      ).stdout.toString(),
    ).toBe('new\n');

    await live.write(Buffer.from('go\n'));
    live.closeStdin();
    await reader.done;
    expect(await live.exit).toBe(0);
    expect(sha256(Buffer.from(reader.text(), 'latin1'))).toBe(sha256(seqText(1, 40000)));
  });
});

describe('bad TLS files stop start-up, naming the variable', () => {
  beforeAll(() => buildService());

  /** Runs the built service (scripts/serve.sh) to its exit; resolves with the code and stderr. */
  function serve(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, EXEC_LISTEN: '127.0.0.1:0', ...env };
    delete childEnv.NODE_OPTIONS;
    const proc = spawn('bash', [join(__dirname, '..', 'scripts', 'serve.sh')], { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, stderr })));
  }

  it.each<[string, () => Record<string, string>, RegExp]>([
    [
      'a missing certificate file',
      () => ({ EXEC_TLS_CERT: '/nonexistent/tls.crt', EXEC_TLS_KEY: serverCert.keyPath }),
      /EXEC_TLS_CERT="\/nonexistent\/tls.crt": cannot read/,
    ],
    [
      'a key of another certificate',
      () => ({ EXEC_TLS_CERT: serverCert.certPath, EXEC_TLS_KEY: clientCert.keyPath }),
      /EXEC_TLS_KEY=.*not a PEM private key matching/,
    ],
    [
      'an expired certificate',
      () => {
        const old = makeCert(ca, { cn: 'exec-stream', sans: SANS, notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2020-01-02T00:00:00Z') });
        return { EXEC_TLS_CERT: old.certPath, EXEC_TLS_KEY: old.keyPath };
      },
      /EXEC_TLS_CERT=.*: the certificate CN=exec-stream expired on 2020-01-02T00:00:00.000Z/,
    ],
    [
      'a client CA that is not a certificate',
      () => ({ EXEC_TLS_CERT: serverCert.certPath, EXEC_TLS_KEY: serverCert.keyPath, EXEC_TLS_CLIENT_CA: serverCert.keyPath }),
      /EXEC_TLS_CLIENT_CA=.*not a PEM certificate/,
    ],
  ])('%s: exit code 2', async (_n, env, message) => {
    const r = await serve(env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
