/** Beside the data path: Prometheus metrics (the registry, the gRPC interceptor that counts calls, the /metrics HTTP server). */
export * from './exec-metrics';
export * from './grpc-metrics.interceptor';
export * from './metrics-server';
export * from './metrics.module';
