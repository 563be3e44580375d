import type { ExecConfig } from '../common/config/exec-config';
import { perConfig } from '../common/per-config';
import { ExecMetrics } from './exec-metrics';

const metricsOf = perConfig((_config: ExecConfig) => new ExecMetrics());

/**
 * The one ExecMetrics of the service built from `config` (shared by the gRPC options' interceptor and the
 * MetricsModule's providers, src/common/per-config.ts), or undefined when EXEC_METRICS_LISTEN is unset
 * (metrics off: nothing is counted).
 */
export function metricsFor(config: ExecConfig): ExecMetrics | undefined {
  return config.EXEC_METRICS_LISTEN ? metricsOf(config) : undefined;
}
