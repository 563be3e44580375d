import { Global, Module } from '@nestjs/common';
import { BACKEND_REQUEST_OBSERVER, EXEC_METRICS } from '../common/tokens';
import { MetricsServer } from './metrics-server';

/**
 * BACKEND_REQUEST_OBSERVER (the service context's EXEC_METRICS, for the executor's port) and the
 * /metrics server.
 */
@Global()
@Module({
  providers: [{ provide: BACKEND_REQUEST_OBSERVER, useExisting: EXEC_METRICS }, MetricsServer],
  exports: [BACKEND_REQUEST_OBSERVER],
})
export class MetricsModule {}
