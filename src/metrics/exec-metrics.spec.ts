import { loadConfig } from '../common/config/exec-config';
import { ExecMetrics, grpcTypeOf } from './exec-metrics';

describe('EXEC_METRICS_LISTEN', () => {
  it('refuses a value that is not host:port, and the gRPC port', () => {
    expect(() => loadConfig({ EXEC_METRICS_LISTEN: '9464' })).toThrow(/EXEC_METRICS_LISTEN must be host:port/);
    expect(() => loadConfig({ EXEC_LISTEN: '127.0.0.1:50051', EXEC_METRICS_LISTEN: '0.0.0.0:50051' })).toThrow(
      /EXEC_METRICS_LISTEN=0\.0\.0\.0:50051: metrics need a port of their own/,
    );
  });
});

describe('ExecMetrics', () => {
  it('reports the hot-path tallies as counters by stream, and only what was added since', async () => {
    const metrics = new ExecMetrics();
    metrics.recorded.add('stdout', 10);
    metrics.recorded.add('stdout', 5);
    metrics.sent.add('stderr', 3);
    let text = await metrics.scrape();
    expect(text).toContain('exec_output_recorded_bytes_total{stream="stdout"} 15');
    expect(text).toContain('exec_output_recorded_chunks_total{stream="stdout"} 2');
    expect(text).toContain('exec_output_recorded_bytes_total{stream="stderr"} 0');
    expect(text).toContain('exec_output_sent_bytes_total{stream="stderr"} 3');
    metrics.recorded.add('stdout', 1);
    text = await metrics.scrape();
    expect(text).toContain('exec_output_recorded_bytes_total{stream="stdout"} 16');
    expect(text).toContain('exec_sessions{state="running",kind="run"} 0');
  });
});

describe('gRPC metrics in the grpc-ecosystem names', () => {
  it('reports calls started, messages in and out from per-method tallies, and calls handled by code with their duration', async () => {
    const metrics = new ExecMetrics();
    const session = metrics.grpcStarted('/dagger.exec.Exec/Session', 'bidi_stream');
    session.received += 2;
    session.sent += 5;
    metrics.grpcHandledCall(session, '/dagger.exec.Exec/Session', 'OK', 0.5);
    const labels = 'grpc_type="bidi_stream",grpc_service="dagger.exec.Exec",grpc_method="Session"';
    let text = await metrics.scrape();
    expect(text).toContain(`grpc_server_started_total{${labels}} 1`);
    expect(text).toContain(`grpc_server_msg_received_total{${labels}} 2`);
    expect(text).toContain(`grpc_server_msg_sent_total{${labels}} 5`);
    expect(text).toContain(`grpc_server_handled_total{${labels},grpc_code="OK"} 1`);
    expect(text).toContain(`grpc_server_handling_seconds_bucket{le="1",${labels}} 1`);
    expect(text).toContain('# TYPE grpc_server_handling_seconds histogram');
    expect(text).toContain('exec_grpc_calls_total{method="/dagger.exec.Exec/Session",code="OK"} 1');
    // Only what was added since the last scrape is added again.
    expect(metrics.grpcStarted('/dagger.exec.Exec/Session', 'bidi_stream')).toBe(session);
    text = await metrics.scrape();
    expect(text).toContain(`grpc_server_started_total{${labels}} 2`);
    expect(text).toContain(`grpc_server_msg_sent_total{${labels}} 5`);
  });

  it('names every method type as grpc-ecosystem does', () => {
    expect([grpcTypeOf(false, false), grpcTypeOf(true, false), grpcTypeOf(false, true), grpcTypeOf(true, true)]).toEqual([
      'unary',
      'client_stream',
      'server_stream',
      'bidi_stream',
    ]);
  });

  it('exports no gauge named _total (prom-client names three of its defaults so)', async () => {
    const text = await new ExecMetrics().scrape();
    expect(text.match(/^# TYPE \S+_total gauge$/gm)).toBeNull();
    expect(text).toContain('# TYPE nodejs_active_handles gauge');
  });
});
