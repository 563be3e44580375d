import { credentials, makeClientConstructor, status as GrpcStatus, type Client } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildService, childService } from './support/child-service';
import { secondEngine, type SecondEngine } from './support/docker-engine';
import { grpcError, sha256 } from './support/helpers';
import { waitUntil } from './support/conditions';
import { BASE_IMAGE, freePort, startTestServer, type TestServer } from './support/server';

// A remote Docker engine over TLS (README, DOCKER_TLS_VERIFY / DOCKER_CERT_PATH): a dockerd of this
// suite's own (scripts/docker-engine.sh docker-tls-e2e) listening with --tlsverify on a loopback port,
// with a CA, server and client certificates made here by openssl.
jest.setTimeout(120_000);

const NAME = 'docker-tls-e2e';
let dir: string;
let port: number;
let engine: SecondEngine;
let server: TestServer | undefined;

const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A CA `name` (name-ca.pem, name-ca-key.pem) and a certificate it signs (name.pem, name-key.pem) with `ext`. */
function issue(ca: string, name: string, cn: string, ext: string): void {
  openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-key.pem`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`);
  execFileSync('sh', ['-c', `printf '%s\\n' '${ext}' > ${name}.ext`], { cwd: dir });
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}-ca.pem`,
    '-CAkey',
    `${ca}-ca-key.pem`,
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    `${name}.pem`,
    '-extfile',
    `${name}.ext`,
  );
}
function makeCa(name: string): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-ca-key.pem`, '-out', `${name}-ca.pem`, '-days', '2', '-subj', `/CN=${name} CA`);
}
/** A DOCKER_CERT_PATH folder holding `files` (ca.pem, cert.pem, key.pem) copied from dir. */
function certPath(name: string, files: Record<string, string>): string {
  const p = join(dir, name);
  mkdirSync(p);
  for (const [to, from] of Object.entries(files)) copyFileSync(join(dir, from), join(p, to));
  return p;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'exec-stream-docker-tls-'));
  makeCa('good');
  makeCa('rogue');
  issue('good', 'server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth');
  issue('good', 'client', 'exec-stream', 'extendedKeyUsage=clientAuth');
  issue('rogue', 'stranger', 'exec-stream', 'extendedKeyUsage=clientAuth');
  port = await freePort();
  engine = secondEngine(NAME);
  engine.stop(); // a leftover engine would lack the TLS listener: flags are given at start only
  const EXTRA_DOCKERD_ARGS = [
    '--tlsverify',
    `--tlscacert=${join(dir, 'good-ca.pem')}`,
    `--tlscert=${join(dir, 'server.pem')}`,
    `--tlskey=${join(dir, 'server-key.pem')}`,
    `--host=tcp://127.0.0.1:${port}`,
  ].join(' ');
  // Jest's process.env is the sandbox's copy: the script gets the extra flags through an explicit env.
  execFileSync('bash', [join(__dirname, '..', 'scripts', 'docker-engine.sh'), NAME, 'start'], { env: { ...process.env, EXTRA_DOCKERD_ARGS }, stdio: 'pipe' });
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(() => {
  engine?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('runs a session byte-exact through DOCKER_HOST=tcp://127.0.0.1:PORT with DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH', async () => {
  const certs = certPath('ok', { 'ca.pem': 'good-ca.pem', 'cert.pem': 'client.pem', 'key.pem': 'client-key.pem' });
  // Containers are kept, so that the test can see which engine ran it.
  server = await startTestServer({ DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs, EXEC_REMOVE_CONTAINERS: 'false' });
  const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'seq 1 200000; echo to-stderr >&2'] });
  const { containerId } = await s.ready;
  const out = await s.collect();
  expect(out.exitCode).toBe(0);
  const expected = Array.from({ length: 200000 }, (_, i) => `${i + 1}\n`).join('');
  expect(sha256(out.stdout)).toBe(sha256(expected));
  expect(out.stderr.toString()).toBe('to-stderr\n');
  // The container ran on the TLS engine (its unix socket is the same daemon), not on the shared one.
  expect(engine.docker('ps', '-aq', '--no-trunc', '--filter', `id=${containerId}`)).toBe(containerId);
  engine.docker('rm', '-f', '-v', '-v', containerId);
});

it('without a client certificate the service does not start, naming DOCKER_CERT_PATH and cert.pem', async () => {
  buildService();
  const certs = certPath('no-cert', { 'ca.pem': 'good-ca.pem' });
  const svc = await childService({ DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs });
  try {
    const err = await svc.start().then(
      () => new Error('the service started'),
      (e: Error) => e,
    );
    expect(err.message).toMatch(/code 2\b/);
    expect(err.message).toContain(`DOCKER_CERT_PATH=${JSON.stringify(certs)}: cannot read cert.pem (ENOENT)`);
  } finally {
    await svc.dispose();
  }
});

it('with a client certificate the engine does not trust, a session fails UNAVAILABLE naming TLS', async () => {
  const certs = certPath('stranger', { 'ca.pem': 'good-ca.pem', 'cert.pem': 'stranger.pem', 'key.pem': 'stranger-key.pem' });
  server = await startTestServer({ DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs });
  const s = server.client.run(BASE_IMAGE, { command: ['true'] });
  const err = await grpcError(s.wait());
  expect(err.code).toBe(GrpcStatus.UNAVAILABLE);
  expect(err.details).toMatch(/^Docker engine unreachable: TLS handshake failed .*DOCKER_CERT_PATH/);
  // And health says so: NOT_SERVING, for the service and for "" alike (README, DOCKER_TLS_VERIFY).
  const Health = makeClientConstructor(healthService, 'grpc.health.v1.Health');
  const health = new Health(server.address, credentials.createInsecure()) as unknown as Client & {
    check(req: { service: string }, cb: (err: Error | null, res?: { status: string }) => void): void;
  };
  try {
    const check = (service: string) => new Promise<string>((resolve, reject) => health.check({ service }, (e, r) => (e ? reject(e) : resolve(r!.status))));
    await waitUntil('health NOT_SERVING', async () => (await check('')) === 'NOT_SERVING');
    expect(await check('dagger.exec.Exec')).toBe('NOT_SERVING');
  } finally {
    health.close();
  }
});

it('DOCKER_HOST=https://127.0.0.1:PORT is the TLS engine too', async () => {
  const certs = certPath('https', { 'ca.pem': 'good-ca.pem', 'cert.pem': 'client.pem', 'key.pem': 'client-key.pem' });
  server = await startTestServer({ DOCKER_HOST: `https://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs });
  const r = await server.client.run(BASE_IMAGE, { command: ['echo', 'over https'] }).collect();
  expect({ stdout: r.stdout.toString(), exitCode: r.exitCode }).toEqual({ stdout: 'over https\n', exitCode: 0 });
});
