import { Client, credentials, Metadata, status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { ControlClient, GRPCConnectionManager } from '@exec-stream/client';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSessions } from './support/retained-sessions';
import { SessionFiles } from '../src/exec/output';
import { LifecycleBus } from '../src/lifecycle/lifecycle-bus';
import { buildService, childService, type ChildService } from './support/child-service';
import { EXEC_METRICS } from '../src/common/tokens';
import { MetricsServer } from '../src/metrics';
import { waitUntil } from './support/conditions';
import { dockerAsync, grpcError, sha256 } from './support/helpers';
import { BASE_IMAGE, freePort, startTestServer, type TestServer } from './support/server';

/** One scrape of /metrics: `name{labels}` → value (labels as Prometheus prints them). */
type Sample = Map<string, number>;

/** A scrape's text, rendered after this call began (the server reuses a render for 250 ms: X-Exec-Rendered-At). */
async function scrapeText(port: number): Promise<string> {
  const asked = Date.now();
  return waitUntil('a scrape rendered after it was asked for', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    return Number(res.headers.get('x-exec-rendered-at')) >= asked && text;
  });
}

async function scrape(port: number): Promise<Sample> {
  const samples: Sample = new Map();
  for (const line of (await scrapeText(port)).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

type Series = Map<string, { type: string; samples: Array<{ labels: Record<string, string>; value: number }> }>;

/** The series of a scrape: sample name → its family's type (from `# TYPE`) and its samples with their labels. */
function seriesOf(text: string): Series {
  const series: Series = new Map();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)!;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    const family = types.has(m[1]) ? m[1] : m[1].replace(/_(bucket|sum|count)$/, '');
    if (!series.has(m[1])) series.set(m[1], { type: types.get(family) ?? 'untyped', samples: [] });
    series.get(m[1])!.samples.push({ labels, value: Number(m[3]) });
  }
  return series;
}

/** The sum of `name`'s samples whose labels include `labels`. */
const total = (s: Series, name: string, labels: Record<string, string> = {}) =>
  (s.get(name)?.samples ?? []).filter((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v)).reduce((n, x) => n + x.value, 0);

/** Labels Prometheus adds to every series it scrapes (the target's), which the service does not export. */
const TARGET_LABELS = new Set(['instance', 'job', 'namespace', 'pod', 'service', 'container', 'endpoint']);
const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset']);

/** The metric selectors of a PromQL expression (name and label matchers), and the labels it groups by. */
function promql(expr: string): { selectors: Array<{ metric: string; matchers: Array<{ label: string; op: string; value: string }> }>; grouping: string[] } {
  const selectors: Array<{ metric: string; matchers: Array<{ label: string; op: string; value: string }> }> = [];
  const grouping: string[] = [];
  const token = /\[[^\]]*\]|"(?:[^"\\]|\\.)*"|\b(by|without|on|ignoring)\s*\(([^)]*)\)|([a-zA-Z_:][\w:]*)\s*(\{[^}]*\})?|\S/g;
  // A name followed by `(`, perhaps after its `by (…)`, is a function or an aggregation.
  const call = /^\s*(?:(?:by|without)\s*\([^)]*\)\s*)?\(/;
  for (const m of expr.matchAll(token)) {
    if (m[1])
      grouping.push(
        ...m[2]
          .split(',')
          .map((l) => l.trim())
          .filter(Boolean),
      );
    if (!m[3] || PROMQL_WORDS.has(m[3]) || call.test(expr.slice(m.index + m[0].length))) continue;
    const matchers = [...(m[4] ?? '').matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map((x) => ({ label: x[1], op: x[2], value: x[3] }));
    selectors.push({ metric: m[3], matchers });
  }
  return { selectors, grouping };
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

  it('exports the grpc-ecosystem server metrics (go-grpc-prometheus names, labels, types) beside its own; no gauge is named _total', async () => {
    const before = seriesOf(await scrapeText(port));
    expect((await server.client.run(BASE_IMAGE, { command: ['echo', 'hi'] }).collect()).stdout.toString()).toBe('hi\n');
    expect((await grpcError(new ControlClient(server.connection).status('not an id!'))).code).toBe(status.INVALID_ARGUMENT);
    const after = seriesOf(await scrapeText(port));
    const delta = (name: string, labels: Record<string, string>) => total(after, name, labels) - total(before, name, labels);
    const session = { grpc_type: 'bidi_stream', grpc_service: 'dagger.exec.Exec', grpc_method: 'Session' };
    const statusCall = { grpc_type: 'unary', grpc_service: 'dagger.exec.Exec', grpc_method: 'ContainerStatus' };
    expect({
      started: delta('grpc_server_started_total', session),
      received: delta('grpc_server_msg_received_total', session),
      handledOk: delta('grpc_server_handled_total', { ...session, grpc_code: 'OK' }),
      timed: delta('grpc_server_handling_seconds_count', session),
    }).toEqual({ started: 1, received: 1, handledOk: 1, timed: 1 });
    // ready, the output, the exit: at least three messages sent.
    expect(delta('grpc_server_msg_sent_total', session)).toBeGreaterThanOrEqual(3);
    expect({
      started: delta('grpc_server_started_total', statusCall),
      received: delta('grpc_server_msg_received_total', statusCall),
      sent: delta('grpc_server_msg_sent_total', statusCall),
      handled: delta('grpc_server_handled_total', { ...statusCall, grpc_code: 'INVALID_ARGUMENT' }),
      timed: delta('grpc_server_handling_seconds_count', statusCall),
    }).toEqual({ started: 1, received: 1, sent: 0, handled: 1, timed: 1 });
    const types = Object.fromEntries(
      [
        'grpc_server_started_total',
        'grpc_server_handled_total',
        'grpc_server_msg_received_total',
        'grpc_server_msg_sent_total',
        'grpc_server_handling_seconds_bucket',
      ].map((n) => [n, after.get(n)?.type]),
    );
    expect(types).toEqual({
      grpc_server_started_total: 'counter',
      grpc_server_handled_total: 'counter',
      grpc_server_msg_received_total: 'counter',
      grpc_server_msg_sent_total: 'counter',
      grpc_server_handling_seconds_bucket: 'histogram',
    });
    for (const [name, { samples }] of after) {
      if (!name.startsWith('grpc_server_')) continue;
      const keys =
        name === 'grpc_server_handled_total' ? ['grpc_code', 'grpc_method', 'grpc_service', 'grpc_type'] : ['grpc_method', 'grpc_service', 'grpc_type'];
      for (const { labels } of samples)
        expect({
          name,
          labels: Object.keys(labels)
            .filter((k) => k !== 'le')
            .sort(),
        }).toEqual({ name, labels: keys });
    }
    // The exec-specific ones stay.
    expect(
      total(after, 'exec_grpc_calls_total', { method: SESSION, code: 'OK' }) - total(before, 'exec_grpc_calls_total', { method: SESSION, code: 'OK' }),
    ).toBe(1);
    expect([...after].filter(([name, { type }]) => type === 'gauge' && name.endsWith('_total')).map(([name]) => name)).toEqual([]);
    expect(after.get('nodejs_active_handles')?.type).toBe('gauge');
  });

  it("the Grafana dashboard's queries (deploy/overlays/metrics) and the metrics docs/OPERATIONS.md quotes read only series this service exports, by labels and values they carry", async () => {
    // Real calls, so that every family has series: a run, a malformed and an unknown container's status.
    expect((await server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo out; echo err >&2'] }).collect()).exitCode).toBe(0);
    await grpcError(new ControlClient(server.connection).status('not an id!'));
    await grpcError(new ControlClient(server.connection).status('f'.repeat(64)));
    const series = seriesOf(await scrapeText(port));
    const dashboard = JSON.parse(readFileSync(join(__dirname, '..', 'deploy/overlays/metrics/grafana-dashboard.json'), 'utf8')) as {
      panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
      templating: { list: Array<{ definition?: string }> };
    };
    const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr })));
    for (const v of dashboard.templating.list) {
      const m = v.definition && /^label_values\(([\w:]+),\s*(\w+)\)$/.exec(v.definition);
      if (m) queries.push({ where: `variable ${v.definition}`, expr: `${m[1]}{${m[2]}=~".*"}` });
    }
    expect(queries.length).toBeGreaterThanOrEqual(15);
    const used = new Set<string>();
    for (const { where, expr } of queries) {
      const { selectors, grouping } = promql(expr);
      expect({ where, selectors: selectors.length > 0 }).toEqual({ where, selectors: true });
      for (const { metric, matchers } of selectors) {
        used.add(metric);
        const samples = series.get(metric)?.samples ?? [];
        expect({ where, metric, exported: samples.length > 0 }).toEqual({ where, metric, exported: true });
        for (const { label, op, value } of matchers) {
          if (TARGET_LABELS.has(label)) continue;
          expect({ where, metric, label, carried: samples.some((x) => label in x.labels) }).toEqual({ where, metric, label, carried: true });
          if (op === '=')
            expect({ where, metric, label, value, seen: samples.some((x) => x.labels[label] === value) }).toEqual({ where, metric, label, value, seen: true });
        }
      }
      for (const label of grouping) {
        if (TARGET_LABELS.has(label)) continue;
        const carried = selectors.some(({ metric }) => series.get(metric)!.samples.some((x) => label in x.labels));
        expect({ where, label, carried }).toEqual({ where, label, carried: true });
      }
    }
    // docs/OPERATIONS.md quotes the service's metrics (`name` or `name{label="value"}`): each one is exported too.
    const operations = readFileSync(join(__dirname, '..', 'docs/OPERATIONS.md'), 'utf8');
    const quoted = [...operations.matchAll(/`((?:exec|grpc_server|process|nodejs)_[a-z_]+(?:\{[^}`]*\})?)`/g)].map((m) => m[1]);
    expect(quoted.length).toBeGreaterThanOrEqual(10);
    for (const q of quoted) {
      const { selectors } = promql(q);
      const [{ metric, matchers }] = selectors;
      const family = series.get(metric) ?? series.get(`${metric}_count`);
      expect({ q, exported: !!family }).toEqual({ q, exported: true });
      // By label only: a value such as grpc_code="DATA_LOSS" appears with its first call.
      for (const { label } of matchers) expect({ q, label, carried: family!.samples.some((x) => label in x.labels) }).toEqual({ q, label, carried: true });
    }
    // What the issue asks of it: sessions, bytes out, clients, errors by code, Docker latency, disk.
    expect([...used]).toEqual(
      expect.arrayContaining([
        'exec_sessions',
        'exec_output_sent_bytes_total',
        'exec_attached_clients',
        'grpc_server_handled_total',
        'exec_docker_request_duration_seconds_bucket',
        'exec_session_files_bytes',
      ]),
    );
  });

  it('counts a client stalled behind the in-memory tail, reading from disk, while it is attached', async () => {
    // 32 MB against the 4 MiB tail: what HTTP/2 windows and grpc-js's buffers take before the paused client
    // holds the server back is far less than what the client stays behind the tail for.
    const beforeRun = await scrape(port);
    const run = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'head -c 32000000 /dev/zero'] });
    const { sessionId } = await run.ready;
    expect(await run.wait()).toBe(0);
    const before = await scrape(port);
    expect(delta(beforeRun, before, 'exec_output_recorded_bytes_total{stream="stdout"}')).toBe(32_000_000);
    // A raw attach that takes its first message (Ready) and then stops reading: the server stops at its
    // flow-control limit, mid-output. (It must take one: grpc-js holds back the HTTP/2 stream of a call
    // only once the call has read a message; before that it decodes and keeps all that arrives, and a
    // call paused from the start took in all 32 MB, the server's attach ending OK within 0.15 s.)
    // A connection of its own (grpc-js shares one connection between channels to the same address with
    // the same options unless told otherwise), with HTTP/2's default 64 KiB window: what the stalled
    // client holds (that window and grpc-js's 16 buffered messages) stays far below the 28 MB behind the tail.
    const own = new GRPCConnectionManager({
      address: server.address,
      channelOptions: { 'grpc.use_local_subchannel_pool': 1, 'grpc-node.flow_control_window': 65_535 },
    });
    const client = own.getClient();
    const call = (client.Session as (md: Metadata) => ClientDuplexStream<object, object>).call(client, own.getMetadata());
    let callError: Error | undefined;
    let callStatus: string | undefined;
    call.on('error', (err: Error) => (callError = err));
    call.on('status', (s: { code: number; details: string }) => (callStatus = `${s.code} ${s.details}`));
    let headers = false;
    call.on('metadata', () => (headers = true));
    const first = new Promise<void>((resolve) =>
      call.once('data', () => {
        call.pause();
        resolve();
      }),
    );
    call.write({ start: { session_id: sessionId } });
    await first;
    let seen: Sample | undefined;
    const stalled = await waitUntil('the stalled client counted behind the tail', async () => {
      const s = (seen = await scrape(port));
      return value(s, 'exec_clients_behind_tail') === 1 && s;
    }).catch((err: Error) => {
      // Say what was seen last: no client attached (its call's error, if any), or one not behind the tail,
      // and how far the call got at the server (started, its Start received, an attach begun).
      const progress = [...(seen ?? new Map<string, number>()).entries()]
        .filter(([k, v]) => /Session"|mode="attach"/.test(k) && v !== value(before, k))
        .map(([k, v]) => `${k} +${v - value(before, k)}`);
      const last = seen && { attached: value(seen, 'exec_attached_clients'), behind: value(seen, 'exec_clients_behind_tail'), progress };
      throw new Error(
        `${err.message}; last scrape: ${JSON.stringify(last)}; the call: ${callError?.message ?? 'no error'}, status ${callStatus ?? 'none'}, headers ${headers ? 'received' : 'none'}`,
      );
    });
    expect(value(stalled, 'exec_attached_clients')).toBe(1);
    expect(delta(before, stalled, 'exec_session_starts_total{mode="attach"}')).toBe(1);
    call.cancel();
    // The client leaves the session on its stream's close, and its call is counted on grpc-js's cancel
    // notice, a tick apart: a scrape may fall between them.
    let last: Sample | undefined;
    const gone = await waitUntil('the client gone and its call counted', async () => {
      const s = (last = await scrape(port));
      return value(s, 'exec_attached_clients') === 0 && delta(before, s, `exec_grpc_calls_total{method="${SESSION}",code="CANCELLED"}`) >= 1 && s;
    }).catch((err: Error) => {
      // Say what was seen last: the client still attached, or its call counted under another code.
      const calls = [...(last ?? new Map<string, number>()).entries()].filter(([k]) => k.startsWith(`exec_grpc_calls_total{method="${SESSION}"`));
      const seen = { attached: last && value(last, 'exec_attached_clients'), calls: calls.map(([k, v]) => `${k} ${v - value(before, k)}`) };
      throw new Error(`${err.message}; last scrape: ${JSON.stringify(seen)}`);
    });
    expect(value(gone, 'exec_clients_behind_tail')).toBe(0);
    expect(delta(before, gone, `exec_grpc_calls_total{method="${SESSION}",code="CANCELLED"}`)).toBe(1);
    own.close();
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
    // Two processes of the built service, booted side by side: one as configured here, one with metrics on.
    const metricsPort = await freePort();
    const [svc, metered] = await Promise.all([childService(), childService({ EXEC_METRICS_LISTEN: `127.0.0.1:${metricsPort}` })]);
    try {
      await Promise.all([svc.start(), metered.start()]);
      const grpcPort = Number(svc.address.split(':')[1]);
      expect((await svc.client.run(BASE_IMAGE, { command: ['true'] }).collect()).exitCode).toBe(0);
      expect(listeningPorts(svc.proc!.pid!)).toEqual([grpcPort]);
      // The same reading sees the metrics port when there is one.
      const meteredGrpcPort = Number(metered.address.split(':')[1]);
      expect(listeningPorts(metered.proc!.pid!)).toEqual([meteredGrpcPort, metricsPort].sort((x, y) => x - y));
    } finally {
      await Promise.all([svc.dispose(), metered.dispose()]);
    }
  });
});

describe('metrics of start-up recovery, retention, refusals and the lifecycle bus', () => {
  const TOKEN = 'metrics-e2e-token-0123456789abcdef';
  let server: TestServer;
  let port: number;
  beforeAll(async () => {
    // Every finished session is over EXEC_RETENTION_BYTES=1: retention removes it for size. Retention
    // sweeps every EXEC_RETENTION_SECONDS / 4 = 2 s; a session would go for age only 8 s after it ended,
    // four sweeps after the one that finds it over the size.
    server = await startTestServer({ EXEC_METRICS_LISTEN: '127.0.0.1:0', EXEC_AUTH_TOKEN: TOKEN, EXEC_RETENTION_BYTES: '1', EXEC_RETENTION_SECONDS: '8' });
    // A history of one event (settable before the first publish): a reader a step behind loses events.
    server.app.get(LifecycleBus).historyLimit = 1;
    port = server.app.get(MetricsServer).port!;
  });
  afterAll(() => server?.close());

  it('counts UNAUTHENTICATED calls and undecodable requests under their method', async () => {
    const before = await scrape(port);
    const anonymous = new GRPCConnectionManager({ address: server.address });
    try {
      expect((await grpcError(new ControlClient(anonymous).status('deadbeefdeadbeef'))).code).toBe(status.UNAUTHENTICATED);
    } finally {
      anonymous.close();
    }
    // Field 1 with wire type 7: no protobuf decoder accepts it (test/undecodable-request.e2e-spec.ts).
    const raw = new Client(server.address, credentials.createInsecure());
    const md = new Metadata();
    md.set('authorization', `Bearer ${TOKEN}`);
    const undecodable = await new Promise<ServiceError>((resolve, reject) =>
      raw.makeUnaryRequest(
        STATUS,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from([0x0f, 0xff]),
        md,
        (err) => (err ? resolve(err) : reject(new Error('accepted'))),
      ),
    );
    raw.close();
    expect(undecodable.code).toBe(status.INVALID_ARGUMENT);
    const after = await scrape(port);
    expect(delta(before, after, `exec_grpc_calls_total{method="${STATUS}",code="UNAUTHENTICATED"}`)).toBe(1);
    expect(delta(before, after, `exec_grpc_calls_total{method="${STATUS}",code="INVALID_ARGUMENT"}`)).toBe(1);
  });

  it('counts a finished session removed by retention for size, and lifecycle events deduplicated and dropped', async () => {
    const before = await scrape(port);
    // A ContainerLifecycle reader that takes nothing, behind an HTTP/2 window of 0: the server's writes to it
    // back up after grpc-js's 16 buffered messages, and then (history of one) every event it has not read is dropped.
    const slow = new GRPCConnectionManager({ address: server.address, token: TOKEN, channelOptions: { 'grpc-node.flow_control_window': 0 } });
    const call = slow.getClient().ContainerLifecycle({}, slow.getMetadata());
    call.on('error', () => undefined);
    call.pause();
    // Eight runs, about six events each: well past the 16 messages grpc-js buffers for the call; four at a
    // time, side by side. (Each prints a line: retention by size counts output and index bytes on disk.)
    for (let batch = 0; batch < 2; batch++) {
      const codes = await Promise.all([0, 1, 2, 3].map(() => server.client.run(BASE_IMAGE, { command: ['echo', 'x'] }).wait()));
      expect(codes).toEqual([0, 0, 0, 0]);
    }
    // Every finished session goes at the next sweep (every 2 s here).
    const after = await waitUntil(
      'the sessions removed for size',
      async () => {
        const s = await scrape(port);
        return delta(before, s, 'exec_retention_removals_total{reason="size"}') === 8 && s;
      },
      30_000,
    );
    expect(delta(before, after, 'exec_lifecycle_events_dropped_total')).toBeGreaterThanOrEqual(1);
    expect(delta(before, after, 'exec_retention_removals_total{reason="age"}')).toBe(0);
    // Docker's events and the executor both report a container's transitions: the second report is not published again.
    expect(delta(before, after, 'exec_lifecycle_events_deduplicated_total')).toBeGreaterThanOrEqual(1);
    call.cancel();
    slow.close();
  });
});

describe('metrics of start-up recovery (exec_recovery_sessions_total) and retention by age', () => {
  const REPLICA = `metrics-recovery-${process.pid}`;
  let dir: string;
  let first: ChildService | undefined;
  let second: TestServer | undefined;
  let containerId = '';
  afterAll(async () => {
    if (containerId) await dockerAsync('rm', '-f', containerId).catch(() => undefined);
    await second?.close();
    await first?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('counts sessions loaded, re-adopted and aborted at start-up, then the loaded ones removed by age', async () => {
    dir = mkdtempSync(join(tmpdir(), 'exec-stream-metrics-recovery-'));
    // A running run left behind by a service stopped with SIGTERM (its drain seals the files, the container runs on).
    buildService();
    first = await childService({ EXEC_REPLICA_ID: REPLICA }, { dataDir: dir });
    await first.start();
    const running = first.client.run(BASE_IMAGE, { command: ['sleep', '60'] });
    containerId = (await running.ready).containerId;
    running.wait().catch(() => undefined); // told UNAVAILABLE by the drain
    await first.stop('SIGTERM');
    // Two finished sessions, and an unfinished one whose container Docker does not have.
    writeSessions(dir, 2, 1);
    const lost = randomUUID();
    const files = SessionFiles.create(join(dir, 'sessions', lost), {
      version: 1,
      id: lost,
      kind: 'run',
      image: BASE_IMAGE,
      command: ['true'],
      tty: false,
      createdAt: Date.now(),
    });
    files.writeProcess({ containerId: 'f'.repeat(64), startedAt: Date.now() });
    files.close();

    second = await startTestServer({ EXEC_DATA_DIR: dir, EXEC_REPLICA_ID: REPLICA, EXEC_METRICS_LISTEN: '127.0.0.1:0', EXEC_RETENTION_SECONDS: '3' });
    const port = second.app.get(MetricsServer).port!;
    const recovered = await waitUntil('start-up recovery counted', async () => {
      const s = await scrape(port);
      return value(s, 'exec_recovery_sessions_total{outcome="readopted"}') === 1 && s;
    });
    expect(value(recovered, 'exec_recovery_sessions_total{outcome="loaded"}')).toBeGreaterThanOrEqual(2);
    expect(value(recovered, 'exec_recovery_sessions_total{outcome="aborted"}')).toBe(1);
    // The finished ones (and the aborted one) age past EXEC_RETENTION_SECONDS=3.
    await waitUntil('the finished sessions removed by age', async () => value(await scrape(port), 'exec_retention_removals_total{reason="age"}') >= 2, 30_000);
    await new ControlClient(second.connection).signal(containerId, 'KILL');
  });
});

describe('EXEC_METRICS_LISTEN on a port it cannot take', () => {
  it('stops start-up, naming the variable (the built service, as it runs)', async () => {
    buildService();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const svc = await childService({ EXEC_METRICS_LISTEN: `127.0.0.1:${(taken.address() as AddressInfo).port}` });
    try {
      await expect(svc.start()).rejects.toThrow(/exited before listening \(code 1/);
      expect(svc.logs.find((l) => l.msg === 'cannot start')?.err).toMatch(/EXEC_METRICS_LISTEN=127\.0\.0\.1:\d+: cannot listen \(.*EADDRINUSE/);
    } finally {
      await svc.dispose();
      taken.close();
    }
  });
});
