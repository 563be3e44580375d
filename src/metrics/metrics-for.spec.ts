import { loadConfig } from '../common/config/exec-config';
import { ExecMetrics } from './exec-metrics';
import { metricsFor } from './metrics-for';

describe('EXEC_METRICS_LISTEN', () => {
  it('unset: metrics off, nothing is made', () => {
    expect(metricsFor(loadConfig({}))).toBeUndefined();
  });

  it('set: one ExecMetrics per service config, shared by whoever asks', () => {
    const config = loadConfig({ EXEC_METRICS_LISTEN: '0.0.0.0:9464' });
    const metrics = metricsFor(config);
    expect(metrics).toBeInstanceOf(ExecMetrics);
    expect(metricsFor(config)).toBe(metrics);
    expect(metricsFor(loadConfig({ EXEC_METRICS_LISTEN: '0.0.0.0:9464' }))).not.toBe(metrics);
  });

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
