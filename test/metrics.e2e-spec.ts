import { status, type ClientDuplexStream, type Metadata } from '@grpc/grpc-js';
import { ControlClient } from '@exec-stream/client';
import { EXEC_METRICS } from '../src/common/tokens';
import { MetricsServer } from '../src/metrics';
import { waitUntil } from './support/conditions';
import { grpcError, sha256 } from './support/helpers';
import { BASE_IMAGE, freePort, startTestServer, type TestServer } from './support/server';
import { buildService, childService } from './support/child-service';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** One scrape of /metrics: `name{labels}` → value (labels as Prometheus prints them). */
type Sample = Map<string, number>;

async function scrape(port: number): Promise<Sample> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples: Sample = new Map();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

const value = (s: Sample, key: string) => s.get(key) ?? 0;
const delta = (before: Sample, after: Sample, key: string) => value(after, key) - value(before, key);

const SESSION = '/dagger.exec.Exec/Session';
const STATUS = '/dagger.exec.Exec/ContainerStatus';

describe('metrics on (EXEC_METRICS_LISTEN)', () => {
  let server: TestServer;
  let port: number;
  beforeAll(async () => {
    server = await startTestServer({ EXEC_METRICS_LISTEN: '127.0.0.1:0' });
    port = server.app.get(MetricsServer).port!;
  });
  afterAll(() => server?.close());

  it('counts a run: its bytes and chunks in and out by stream, one session more, its Docker requests and lifecycle events', async () => {
    const before = await scrape(port);
    // 300000 bytes of stdout and 7777 of stderr, made inside the container.
    const script = 'head -c 300000 /dev/zero | tr "\\0" a; head -c 7777 /dev/zero | tr "\\0" e >&2';
    const { stdout, stderr, exitCode } = await server.client.run(BASE_IMAGE, { command: ['sh', '-c', script] }).collect();
    expect(exitCode).toBe(0);
    expect(sha256(stdout)).toBe(sha256(Buffer.alloc(300_000, 'a')));
    expect(sha256(stderr)).toBe(sha256(Buffer.alloc(7777, 'e')));
    // The session is finished once its exit was sent; the census is taken at scrape time.
    const after = await waitUntil('the run counted as finished', async () => {
      const s = await scrape(port);
      return delta(before, s, 'exec_sessions{state="finished",kind="run"}') === 1 && s;
    });

    for (const [stream, bytes] of [
      ['stdout', 300_000],
      ['stderr', 7777],
    ] as const) {
      expect(delta(before, after, `exec_output_recorded_bytes_total{stream="${stream}"}`)).toBe(bytes);
      // One client: everything recorded was sent once.
      expect(delta(before, after, `exec_output_sent_bytes_total{stream="${stream}"}`)).toBe(bytes);
      const chunks = delta(before, after, `exec_output_recorded_chunks_total{stream="${stream}"}`);
      expect(chunks).toBeGreaterThanOrEqual(1);
      expect(delta(before, after, `exec_output_sent_chunks_total{stream="${stream}"}`)).toBe(chunks);
    }
    expect(delta(before, after, 'exec_session_starts_total{mode="run"}')).toBe(1);
    expect(delta(before, after, 'exec_session_starts_total{mode="attach"}')).toBe(0);
    expect(delta(before, after, `exec_grpc_calls_total{method="${SESSION}",code="OK"}`)).toBe(1);
    expect(delta(before, after, 'exec_docker_requests_total{operation="POST /containers/create"}')).toBe(1);
    expect(delta(before, after, 'exec_docker_requests_total{operation="POST /containers/{id}/start"}')).toBe(1);
    expect(delta(before, after, 'exec_docker_request_duration_seconds_count{operation="POST /containers/{id}/start"}')).toBe(1);
    expect(delta(before, after, 'exec_lifecycle_events_published_total')).toBeGreaterThanOrEqual(2); // registered, started, exited…
    expect(value(after, 'exec_session_files_bytes')).toBeGreaterThanOrEqual(307_777);
    // prom-client's default process metrics.
    expect(value(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(after.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('counts a ContainerStatus with a bad id as INVALID_ARGUMENT under its method, timed as a unary call, and a Docker error', async () => {
    const before = await scrape(port);
    const err = await grpcError(new ControlClient(server.connection).status('not an id!'));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    const missing = await grpcError(new ControlClient(server.connection).status('f'.repeat(64)));
    expect(missing.code).toBe(status.NOT_FOUND);
    const after = await scrape(port);
    expect(delta(before, after, `exec_grpc_calls_total{method="${STATUS}",code="INVALID_ARGUMENT"}`)).toBe(1);
    expect(delta(before, after, `exec_grpc_calls_total{method="${STATUS}",code="NOT_FOUND"}`)).toBe(1);
    expect(delta(before, after, `exec_grpc_unary_duration_seconds_count{method="${STATUS}"}`)).toBe(2);
    // The unknown container: Docker answered 404, an error of its inspect.
    expect(delta(before, after, 'exec_docker_request_errors_total{operation="GET /containers/{id}/json"}')).toBe(1);
  });

  it('counts a client stalled behind the in-memory tail, reading from disk, while it is attached', async () => {
    const run = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'head -c 8000000 /dev/zero'] });
    const { sessionId } = await run.ready;
    await run.wait();
    const before = await scrape(port);
    // A raw attach that never reads: the server stops at its flow-control limit, mid-output.
    const client = server.connection.getClient();
    const call = (client.Session as (md: Metadata) => ClientDuplexStream<object, object>).call(client, server.connection.getMetadata());
    call.on('error', () => undefined);
    call.pause();
    call.write({ start: { session_id: sessionId } });
    const stalled = await waitUntil('the stalled client counted behind the tail', async () => {
      const s = await scrape(port);
      return value(s, 'exec_clients_behind_tail') === 1 && s;
    });
    expect(value(stalled, 'exec_attached_clients')).toBe(1);
    expect(delta(before, stalled, 'exec_session_starts_total{mode="attach"}')).toBe(1);
    call.cancel();
    const gone = await waitUntil('the client gone', async () => {
      const s = await scrape(port);
      return value(s, 'exec_attached_clients') === 0 && s;
    });
    expect(value(gone, 'exec_clients_behind_tail')).toBe(0);
    expect(delta(before, gone, `exec_grpc_calls_total{method="${SESSION}",code="CANCELLED"}`)).toBe(1);
  });

  it('serves metrics on their own port only: the gRPC port answers no HTTP/1 /metrics, other paths are 404', async () => {
    await expect(fetch(`http://${server.address}/metrics`).then((r) => r.status)).rejects.toThrow();
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
  });
});

/** TCP ports a process listens on: its sockets (/proc/PID/fd) that /proc/PID/net/tcp{,6} lists in state LISTEN. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const m = /^socket:\[(\d+)\]$/.exec(readlinkSafe(`/proc/${pid}/fd/${fd}`));
    if (m) inodes.add(m[1]);
  }
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && inodes.has(f[9])) ports.push(parseInt(f[1].split(':')[1], 16));
    }
  }
  return ports.sort((x, y) => x - y);
}

function readlinkSafe(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return ''; // closed meanwhile
  }
}

describe('metrics off (EXEC_METRICS_LISTEN unset)', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer()));
  afterAll(() => server?.close());

  it('counts nothing', async () => {
    expect(server.app.get(EXEC_METRICS, { strict: false })).toBeNull();
    expect(server.app.get(MetricsServer).port).toBeUndefined();
    expect((await server.client.run(BASE_IMAGE, { command: ['true'] }).collect()).exitCode).toBe(0);
  });

  it('listens on nothing but gRPC: the service process has one listening socket, and a second once metrics are on', async () => {
    buildService();
    const svc = await childService();
    try {
      const grpcPort = Number(svc.address.split(':')[1]);
      await svc.start();
      expect((await svc.client.run(BASE_IMAGE, { command: ['true'] }).collect()).exitCode).toBe(0);
      expect(listeningPorts(svc.proc!.pid!)).toEqual([grpcPort]);
      // The same reading sees the metrics port when there is one.
      await svc.stop('SIGTERM');
      const metricsPort = await freePort();
      await svc.start({ EXEC_METRICS_LISTEN: `127.0.0.1:${metricsPort}` });
      expect(listeningPorts(svc.proc!.pid!)).toEqual([grpcPort, metricsPort].sort((x, y) => x - y));
    } finally {
      await svc.dispose();
    }
  });
});
