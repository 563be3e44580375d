import type { ExecConfig } from '../common/config/exec-config';
import { ExecMetrics } from './exec-metrics';

const instances = new WeakMap<ExecConfig, ExecMetrics>();

/**
 * The one ExecMetrics of the service built from `config`, or undefined when EXEC_METRICS_LISTEN is
 * unset (metrics off: nothing is counted). Shared by the gRPC options (built before the Nest
 * application) and the MetricsModule, so the interceptor and the providers count into one registry.
 */
export function metricsFor(config: ExecConfig): ExecMetrics | undefined {
  if (!config.EXEC_METRICS_LISTEN) return undefined;
  let metrics = instances.get(config);
  if (!metrics) instances.set(config, (metrics = new ExecMetrics()));
  return metrics;
}
