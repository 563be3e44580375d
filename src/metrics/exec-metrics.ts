import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StreamName } from '../common/streams';
import { StreamTally, type LifecycleCounts, type OutputTallies, type SessionCensus, type SessionReports } from '../common/reporting';
import { stdoutDestination } from '../common/logger';

export type SessionCallMode = 'run' | 'exec' | 'attach';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** grpc_server_handling_seconds: LATENCY_BUCKETS, then the lengths of streams (Session, lifecycle) up to an hour. */
const HANDLING_BUCKETS = [...LATENCY_BUCKETS, 60, 300, 900, 3600];

/** The grpc-ecosystem `grpc_type` of a method (go-grpc-prometheus, grpc-prometheus). */
export type GrpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

export function grpcTypeOf(requestStream: boolean, responseStream: boolean): GrpcType {
  if (requestStream) return responseStream ? 'bidi_stream' : 'client_stream';
  return responseStream ? 'server_stream' : 'unary';
}

/**
 * One method's calls started and messages received and sent, as plain numbers: bumped per message on
 * the hot path and read by the registry only when /metrics is scraped.
 */
export class GrpcMethodTally {
  /** The grpc-ecosystem labels: type, service (`dagger.exec.Exec`) and method (`Session`). */
  readonly labels: { grpc_type: GrpcType; grpc_service: string; grpc_method: string };
  started = 0;
  received = 0;
  sent = 0;

  constructor(path: string, type: GrpcType) {
    const slash = path.lastIndexOf('/');
    this.labels = { grpc_type: type, grpc_service: path.slice(1, slash), grpc_method: path.slice(slash + 1) };
  }
}

/** Prometheus' default metrics that are gauges named `_total` (which tools take for counters); `nodejs_active_*` by type stays. */
const GAUGES_NAMED_TOTAL = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * Every metric of one service instance, on a registry of its own (two instances in one process, as in
 * tests, never share numbers). docs/METRICS.md lists them. Unset EXEC_METRICS_LISTEN = no instance.
 */
export class ExecMetrics implements OutputTallies, LifecycleCounts, SessionReports {
  readonly registry = new Registry();
  /** Output recorded (from the container, TeeWriter) and sent (to clients, one count per client). */
  readonly recorded = new StreamTally();
  readonly sent = new StreamTally();
  /** Lifecycle bus: published, repeats dropped by dedupe, events readers lost by falling behind history. */
  readonly lifecycle = { published: 0, deduplicated: 0, dropped: 0 };

  private readonly sessionStarts: Counter<'mode'>;
  private readonly retentionRemovals: Counter<'reason'>;
  private readonly recovery: Counter<'outcome'>;
  private readonly grpcCalls: Counter<'method' | 'code'>;
  private readonly grpcUnary: Histogram<'method'>;
  private readonly dockerRequests: Counter<'operation'>;
  private readonly dockerErrors: Counter<'operation'>;
  private readonly dockerLatency: Histogram<'operation'>;
  private census?: () => SessionCensus;
  /** Per method path, created with the method's first call. */
  private readonly grpcMethods = new Map<string, GrpcMethodTally>();
  private readonly grpcHandled: Counter<'grpc_type' | 'grpc_service' | 'grpc_method' | 'grpc_code'>;
  private readonly grpcHandling: Histogram<'grpc_type' | 'grpc_service' | 'grpc_method'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    for (const name of GAUGES_NAMED_TOTAL) this.registry.removeSingleMetric(name);
    tallyCounters(this.registry, 'exec_output_recorded', 'recorded from containers (the session files)', this.recorded);
    tallyCounters(this.registry, 'exec_output_sent', 'sent to clients (each client counts)', this.sent);

    const census = () => this.census?.();
    new Gauge({
      name: 'exec_sessions',
      help: 'Sessions held by this instance, by state (running, finished) and kind (run, exec)',
      labelNames: ['state', 'kind'],
      registers,
      collect() {
        const c = census();
        for (const state of ['running', 'finished'] as const) for (const kind of ['run', 'exec'] as const) this.set({ state, kind }, c?.[state][kind] ?? 0);
      },
    });
    const gauge = (name: string, help: string, read: (c: SessionCensus) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const c = census();
          this.set(c ? read(c) : 0);
        },
      });
    gauge('exec_attached_clients', 'Clients attached to sessions (Session calls delivering output)', (c) => c.clients);
    gauge('exec_clients_behind_tail', 'Attached clients behind the in-memory tail, reading output back from disk', (c) => c.behindTail);
    gauge('exec_session_files_bytes', "Bytes of all sessions' files on disk (output and index)", (c) => c.diskBytes);

    const lifecycle = this.lifecycle;
    const plainCounter = (name: string, help: string, read: () => number) => {
      let reported = 0;
      new Counter({
        name,
        help,
        registers,
        collect() {
          const now = read();
          this.inc(now - reported);
          reported = now;
        },
      });
    };
    plainCounter('exec_lifecycle_events_published_total', 'Lifecycle events published on the bus', () => lifecycle.published);
    plainCounter(
      'exec_lifecycle_events_deduplicated_total',
      'Reports of a transition already published by another source (not published again)',
      () => lifecycle.deduplicated,
    );
    plainCounter(
      'exec_lifecycle_events_dropped_total',
      'Events lifecycle readers lost by falling behind the bounded history (told as `dropped`)',
      () => lifecycle.dropped,
    );
    plainCounter(
      'exec_log_lines_dropped_total',
      'Log lines stdout could not take (a full disk, a reader 16 Mi characters behind): dropped, each reason said once on stderr',
      () => stdoutDestination().dropped,
    );

    this.sessionStarts = new Counter({
      name: 'exec_session_starts_total',
      help: 'Session calls whose Start succeeded, by mode (run, exec, attach)',
      labelNames: ['mode'],
      registers,
    });
    for (const mode of ['run', 'exec', 'attach']) this.sessionStarts.inc({ mode }, 0);
    this.retentionRemovals = new Counter({
      name: 'exec_retention_removals_total',
      help: 'Finished sessions removed with their files, by reason (age, size)',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of ['age', 'size']) this.retentionRemovals.inc({ reason }, 0);
    this.recovery = new Counter({
      name: 'exec_recovery_sessions_total',
      help: 'Sessions found in the data directory at start-up: loaded, and of the unfinished ones readopted or aborted',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ['loaded', 'readopted', 'aborted']) this.recovery.inc({ outcome }, 0);
    this.grpcCalls = new Counter({
      name: 'exec_grpc_calls_total',
      help: 'gRPC calls ended, by method and status code',
      labelNames: ['method', 'code'],
      registers,
    });
    this.grpcUnary = new Histogram({
      name: 'exec_grpc_unary_duration_seconds',
      help: 'Duration of unary gRPC calls, by method',
      labelNames: ['method'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    // The grpc-ecosystem server metrics (go-grpc-prometheus), which existing gRPC dashboards read.
    const methods = this.grpcMethods;
    const GRPC_LABELS = ['grpc_type', 'grpc_service', 'grpc_method'] as const;
    for (const [name, help, field] of [
      ['grpc_server_started_total', 'Total number of RPCs started on the server.', 'started'],
      ['grpc_server_msg_received_total', 'Total number of RPC stream messages received on the server.', 'received'],
      ['grpc_server_msg_sent_total', 'Total number of gRPC stream messages sent by the server.', 'sent'],
    ] as const) {
      const reported = new Map<GrpcMethodTally, number>();
      new Counter({
        name,
        help,
        labelNames: GRPC_LABELS,
        registers,
        collect() {
          for (const tally of methods.values()) {
            const now = tally[field];
            this.inc(tally.labels, now - (reported.get(tally) ?? 0));
            reported.set(tally, now);
          }
        },
      });
    }
    this.grpcHandled = new Counter({
      name: 'grpc_server_handled_total',
      help: 'Total number of RPCs completed on the server, regardless of success or failure.',
      labelNames: [...GRPC_LABELS, 'grpc_code'],
      registers,
    });
    this.grpcHandling = new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
      labelNames: GRPC_LABELS,
      buckets: HANDLING_BUCKETS,
      registers,
    });
    this.dockerRequests = new Counter({ name: 'exec_docker_requests_total', help: 'Docker API requests, by operation', labelNames: ['operation'], registers });
    this.dockerErrors = new Counter({
      name: 'exec_docker_request_errors_total',
      help: 'Docker API requests that failed (error status, no answer, aborted), by operation',
      labelNames: ['operation'],
      registers,
    });
    this.dockerLatency = new Histogram({
      name: 'exec_docker_request_duration_seconds',
      help: "Time to Docker's answer (for a stream: to its headers), by operation",
      labelNames: ['operation'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
  }

  /** The session manager's census, called at each scrape. */
  observeSessions(census: () => SessionCensus): void {
    this.census = census;
  }

  sessionStarted(mode: SessionCallMode): void {
    this.sessionStarts.inc({ mode });
  }

  retentionRemoved(reason: string): void {
    this.retentionRemovals.inc({ reason });
  }

  recovered(outcome: 'loaded' | 'readopted' | 'aborted', count = 1): void {
    this.recovery.inc({ outcome }, count);
  }

  /** The tally of a method (its path, e.g. `/dagger.exec.Exec/Session`), counted as one more call started. */
  grpcStarted(path: string, type: GrpcType): GrpcMethodTally {
    let tally = this.grpcMethods.get(path);
    if (!tally) this.grpcMethods.set(path, (tally = new GrpcMethodTally(path, type)));
    tally.started++;
    return tally;
  }

  /** One gRPC call ended with `code` (a grpc-js status name) after `seconds`. */
  grpcHandledCall(tally: GrpcMethodTally, path: string, code: string, seconds: number): void {
    this.grpcHandled.inc({ ...tally.labels, grpc_code: code });
    this.grpcHandling.observe(tally.labels, seconds);
    this.grpcCalls.inc({ method: path, code });
    if (tally.labels.grpc_type === 'unary') this.grpcUnary.observe({ method: path }, seconds);
  }

  /** The executor's BackendRequestObserver: one Docker request answered or failed. */
  backendRequest(operation: string, seconds: number, failed: boolean): void {
    this.dockerRequests.inc({ operation });
    if (failed) this.dockerErrors.inc({ operation });
    this.dockerLatency.observe({ operation }, seconds);
  }

  /** Prometheus text format. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}

/** `<prefix>_bytes_total` and `<prefix>_chunks_total` by stream, read from a StreamTally at scrape time. */
function tallyCounters(registry: Registry, prefix: string, what: string, tally: StreamTally): void {
  for (const unit of ['bytes', 'chunks'] as const) {
    const reported: Record<StreamName, number> = { stdout: 0, stderr: 0 };
    new Counter({
      name: `${prefix}_${unit}_total`,
      help: `Output ${unit} ${what}, by stream`,
      labelNames: ['stream'],
      registers: [registry],
      collect() {
        for (const stream of ['stdout', 'stderr'] as const) {
          const now = tally[unit][stream];
          this.inc({ stream }, now - reported[stream]);
          reported[stream] = now;
        }
      },
    });
  }
}
