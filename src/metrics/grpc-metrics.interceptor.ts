import { ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import { grpcTypeOf, type ExecMetrics } from './exec-metrics';

/**
 * A grpc-js server interceptor counting every call: started, each message received and sent, and once
 * when it ends, by method and status code (a call the client cancelled counts as CANCELLED), with its
 * duration. It must be the first interceptor of the list (the innermost), so that it also sees the
 * statuses later interceptors send themselves (UNAUTHENTICATED, undecodable requests).
 */
export function grpcMetricsInterceptor(metrics: ExecMetrics): ServerInterceptor {
  return (method, call) => {
    const started = process.hrtime.bigint();
    const tally = metrics.grpcStarted(method.path, grpcTypeOf(method.requestStream, method.responseStream));
    let counted = false;
    const count = (code: number) => {
      if (counted) return;
      counted = true;
      metrics.grpcHandledCall(tally, method.path, status[code] ?? String(code), Number(process.hrtime.bigint() - started) / 1e9);
    };
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMessage: (message, nextMessage) => {
            tally.received++;
            nextMessage(message);
          },
          onCancel: () => count(status.CANCELLED),
        }),
      sendMessage: (message, next) => {
        tally.sent++;
        next(message);
      },
      sendStatus: (statusObject, next) => {
        count(statusObject.code);
        next(statusObject);
      },
    });
  };
}
