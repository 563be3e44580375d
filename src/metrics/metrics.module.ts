import { Global, Module } from '@nestjs/common';
import type { ExecConfig } from '../common/config/exec-config';
import { BACKEND_REQUEST_OBSERVER, EXEC_CONFIG, EXEC_METRICS } from '../common/tokens';
import { metricsFor } from './metrics-for';
import { MetricsServer } from './metrics-server';

/**
 * EXEC_METRICS (the instance's ExecMetrics, or null when metrics are off) for every module that
 * counts, BACKEND_REQUEST_OBSERVER (the same object, for the executor's port) and the /metrics server.
 */
@Global()
@Module({
  providers: [
    { provide: EXEC_METRICS, useFactory: (config: ExecConfig) => metricsFor(config) ?? null, inject: [EXEC_CONFIG] },
    { provide: BACKEND_REQUEST_OBSERVER, useExisting: EXEC_METRICS },
    MetricsServer,
  ],
  exports: [EXEC_METRICS, BACKEND_REQUEST_OBSERVER],
})
export class MetricsModule {}
