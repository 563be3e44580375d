import { ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import type { ExecMetrics } from './exec-metrics';

/**
 * A grpc-js server interceptor counting every call once, when it ends, by method and status code (a
 * call the client cancelled counts as CANCELLED), and timing unary calls. It must be the first
 * interceptor of the list (the innermost), so that it also sees the statuses later interceptors send
 * themselves (UNAUTHENTICATED, undecodable requests).
 */
export function grpcMetricsInterceptor(metrics: ExecMetrics): ServerInterceptor {
  return (method, call) => {
    const started = process.hrtime.bigint();
    const unary = !method.requestStream && !method.responseStream;
    let counted = false;
    const count = (code: number) => {
      if (counted) return;
      counted = true;
      const seconds = unary ? Number(process.hrtime.bigint() - started) / 1e9 : undefined;
      metrics.grpcCall(method.path, status[code] ?? String(code), seconds);
    };
    return new ServerInterceptingCall(call, {
      start: (next) => next({ onCancel: () => count(status.CANCELLED) }),
      sendStatus: (statusObject, next) => {
        count(statusObject.code);
        next(statusObject);
      },
    });
  };
}
