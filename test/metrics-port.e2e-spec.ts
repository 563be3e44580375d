import { readdirSync } from 'node:fs';
import { get, type IncomingHttpHeaders } from 'node:http';
import { ControlClient } from '@exec-stream/client';
import { status } from '@grpc/grpc-js';
import { buildService, childService, type ChildService } from './support/child-service';
import { waitUntil } from './support/conditions';
import { freePort } from './support/free-port';
import { closeAll, idleConnections } from './support/idle-connections';
import { grpcError, sha256 } from './support/helpers';
import { BASE_IMAGE } from './support/server';

/**
 * The /metrics port is unauthenticated and reachable from the pod network: whatever is done to it, gRPC
 * goes on (issue 23, item 6). The built service under a low fd limit, its metrics port held by more idle
 * connections than it has fds, dripped into, and flooded with scrapes (METRICS_PORT_LIMITS).
 */
const NOFILE = 256;
const IDLE_CONNECTIONS = 400;

let svc: ChildService;
let metricsPort: number;
beforeAll(async () => {
  buildService();
  metricsPort = await freePort();
  svc = await childService({ EXEC_METRICS_LISTEN: `127.0.0.1:${metricsPort}` }, { nofile: NOFILE });
  await svc.start();
}, 120_000);
afterAll(() => svc?.dispose());

const fds = () => readdirSync(`/proc/${svc.proc!.pid}/fd`).length;

it(`serves gRPC while ${IDLE_CONNECTIONS} idle connections (more than its ${NOFILE} fds) hold the metrics port, and closes them`, async () => {
  const sockets = await idleConnections(metricsPort, IDLE_CONNECTIONS);
  try {
    expect(sockets.filter((c) => !c.connected).length).toBe(0);
    // A run needs new fds (Docker connections, session files): it works, byte-exact.
    const script = 'seq 1 5000; exit 3';
    const run = await svc.client.run(BASE_IMAGE, { command: ['sh', '-c', script] }).collect();
    expect({ exitCode: run.exitCode, stdout: sha256(run.stdout) }).toEqual({
      exitCode: 3,
      stdout: sha256(Array.from({ length: 5000 }, (_, i) => `${i + 1}\n`).join('')),
    });
    // A unary call on the running service answers with its own code, not a resource failure.
    expect((await grpcError(new ControlClient(svc.connection).status('f'.repeat(64)))).code).toBe(status.NOT_FOUND);
    expect(fds()).toBeLessThan(NOFILE);
    // Idle connections do not stay: the service closes every one of them.
    await waitUntil('every idle metrics connection closed by the service', () => sockets.every((c) => c.closedAt !== undefined), 30_000);
  } finally {
    closeAll(sockets);
  }
  // A scrape is answered afterwards.
  expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(200);
}, 90_000);

it('closes a connection that drips its request headers instead of waiting for them', async () => {
  const [c] = await idleConnections(metricsPort, 1);
  expect(c.connected).toBe(true);
  c.socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
  let headers = 0;
  // One more header line every 250 ms, for up to 60 s: the service must cut it off long before.
  const drip = setInterval(() => c.closedAt === undefined && c.socket.write(`X-Drip-${headers++}: 1\r\n`), 250);
  try {
    await waitUntil('the dripping connection closed by the service', () => c.closedAt !== undefined, 60_000);
  } finally {
    clearInterval(drip);
    closeAll([c]);
  }
  expect(headers).toBeLessThan(240);
}, 90_000);

it('renders a flood of scrapes at most once per 250 ms (X-Exec-Rendered-At), answering each', async () => {
  const started = Date.now();
  const answers = await Promise.all(
    Array.from({ length: 24 }, async () => {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      const text = await res.text();
      const encoding = res.headers.get('content-encoding');
      return { status: res.status, encoding, renderedAt: Number(res.headers.get('x-exec-rendered-at')), bytes: text.length };
    }),
  );
  const spanMs = Date.now() - started;
  // fetch asks for gzip (as Prometheus does): the render is gzipped once and sent so.
  expect(answers.every((a) => a.status === 200 && a.encoding === 'gzip' && a.bytes > 1000 && a.renderedAt >= started - 250)).toBe(true);
  const renders = new Set(answers.map((a) => a.renderedAt)).size;
  expect(renders).toBeLessThanOrEqual(1 + Math.floor(spanMs / 250));
});

it('answers a client that does not ask for gzip in plain text', async () => {
  const { headers, text } = await new Promise<{ headers: IncomingHttpHeaders; text: string }>((resolve, reject) =>
    get(`http://127.0.0.1:${metricsPort}/metrics`, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ headers: res.headers, text }));
    }).on('error', reject),
  );
  expect(headers['content-encoding']).toBeUndefined();
  expect(text).toMatch(/^# HELP /);
  expect(text).toContain('grpc_server_started_total');
});
