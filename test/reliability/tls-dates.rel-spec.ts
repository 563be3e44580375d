import { spawn } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { ExecClient, GRPCConnectionManager } from '@exec-stream/client';
import { makeCa, makeCert, type Cert } from '../support/certs';
import { buildService, childService, type ChildService } from '../support/child-service';
import { waitUntil } from '../support/conditions';
import { BASE_IMAGE } from '../support/server';
import { recordFigures } from './support/figures';
import { PROBE_EXPECTED, PROBE_LINES, TOKEN } from './support/service';

// Server certificates out of their dates (issue 23): refused at start-up, a rotation to one keeps the
// previous pair (and says so), and the image's HEALTHCHECK speaks TLS throughout.
const DAY = 86_400_000;
const SANS = ['IP:127.0.0.1', 'DNS:localhost'];
const ca = makeCa();
const dates = (from: number, to: number) => ({ cn: 'exec-stream', sans: SANS, notBefore: new Date(Date.now() + from), notAfter: new Date(Date.now() + to) });
const expired = makeCert(ca, dates(-30 * DAY, -DAY));
const early = makeCert(ca, dates(DAY, 30 * DAY));
const good = makeCert(ca, { cn: 'exec-stream', sans: SANS });
const next = makeCert(ca, { cn: 'exec-stream', sans: SANS });
const dir = join(good.certPath, '..');
const live = { EXEC_TLS_CERT: join(dir, 'live.crt'), EXEC_TLS_KEY: join(dir, 'live.key') };

/** Replaces the live pair as Kubernetes replaces a Secret's files: each written aside, then renamed over. */
function rotate(to: Cert): void {
  for (const [text, path] of [
    [to.cert, live.EXEC_TLS_CERT],
    [to.key, live.EXEC_TLS_KEY],
  ]) {
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
  }
}

/** The fingerprint of the certificate a new TLS connection is shown. */
function served(address: string): Promise<string> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, ca: ca.cert, servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

/** scripts/healthcheck.js as Docker runs it inside the image, with the service's TLS variables. */
function healthcheck(address: string): Promise<number | null> {
  const node = join(__dirname, '..', '..', 'node_modules', '.bin', 'node');
  const proc = spawn(node, [join(__dirname, '..', '..', 'scripts', 'healthcheck.js')], { env: { EXEC_LISTEN: address, ...live }, stdio: 'ignore' });
  return new Promise((resolve) => proc.once('exit', resolve));
}

/** The probe over TLS (`seq 1 20000; exit 3`, byte-exact; `lines` fewer for a quick one), from a client that verifies the server. */
async function probe(address: string, lines = PROBE_LINES): Promise<boolean> {
  const connection = new GRPCConnectionManager({ address, token: TOKEN, tls: { ca: ca.cert } });
  try {
    const r = await new ExecClient(connection).run(BASE_IMAGE, { command: ['sh', '-c', `seq 1 ${lines}; exit 3`] }).collect();
    const expected = lines === PROBE_LINES ? PROBE_EXPECTED : Array.from({ length: lines }, (_, i) => `${i + 1}\n`).join('');
    return r.stdout.toString() === expected && r.exitCode === 3;
  } finally {
    connection.close();
  }
}

let svc: ChildService | undefined;
beforeAll(() => buildService(), 120_000);
afterAll(() => svc?.dispose());

it('certificates out of their dates: refused at start-up naming the variable and dates; a rotation to one keeps the previous pair; HEALTHCHECK over TLS', async () => {
  const startUp: Record<string, string> = {};
  for (const [name, cert] of [
    ['expired', expired],
    ['not yet valid', early],
  ] as const) {
    const refused = await childService({ EXEC_AUTH_TOKEN: TOKEN, EXEC_TLS_CERT: cert.certPath, EXEC_TLS_KEY: cert.keyPath });
    startUp[name] = await refused.start().then(
      () => 'started',
      (err: Error) => /EXEC_TLS_CERT=.*the certificate CN=exec-stream (expired on|is not valid before) \S+Z/.exec(err.message)?.[0] ?? err.message,
    );
    await refused.dispose();
  }

  rotate(good);
  svc = await childService({ EXEC_AUTH_TOKEN: TOKEN, ...live });
  await svc.start();
  const address = svc.address;
  const refusals = () =>
    svc!.logs.filter((l) => l.msg === 'TLS certificate files changed but are not usable: keeping the previous ones').map((l) => String(l.problem));
  const rotations: Array<Record<string, unknown>> = [];
  for (const [name, cert] of [
    ['expired', expired],
    ['not yet valid', early],
  ] as const) {
    rotate(cert);
    const logged = await waitUntil(`the service to refuse the ${name} pair`, () =>
      refusals().find((p) => p.includes(cert === expired ? 'expired on' : 'not valid before')),
    );
    rotations.push({
      to: name,
      logged,
      servedStill: (await served(address)) === good.fingerprint256,
      probe: await probe(address, 10),
      healthcheck: await healthcheck(address),
    });
  }
  // While the files hold a refused pair the HEALTHCHECK (which trusts the files) fails: back to a valid pair.
  rotate(next);
  await waitUntil('the service to take the new valid pair', async () => (await served(address)) === next.fingerprint256);
  const after = { probe: await probe(address), healthcheck: await healthcheck(address) };
  recordFigures('tls-dates', { startUp, rotations, after });
  expect(startUp).toEqual({
    expired: expect.stringMatching(/expired on/),
    'not yet valid': expect.stringMatching(/is not valid before/),
  });
  expect(rotations.map(({ to, servedStill, probe: p }) => ({ to, servedStill, probe: p }))).toEqual([
    { to: 'expired', servedStill: true, probe: true },
    { to: 'not yet valid', servedStill: true, probe: true },
  ]);
  expect(after).toEqual({ probe: true, healthcheck: 0 });
});
