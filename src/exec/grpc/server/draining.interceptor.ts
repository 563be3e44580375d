import { Metadata, ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import { HEALTH_PROBLEM, type HealthState } from '../../../common/health-state';
import { DRAIN_MESSAGE } from '../../session';

/**
 * Once the service drains (SIGTERM: health's `draining` problem), every new call of the Exec service is
 * answered UNAVAILABLE with the drain's message as soon as its metadata arrives: nothing new starts that
 * the server's close would cut (which a plain client sees as CANCELLED). The interceptors inside
 * it (auth) have read the metadata by then, so the refusal is logged and audited with its caller and
 * request id. Calls already running are told by the drain itself (SessionDrain, CallForwarder,
 * LifecycleCallHandler); health keeps answering.
 */
export function drainingInterceptor(health: HealthState): ServerInterceptor {
  return (method, call) =>
    new ServerInterceptingCall(call, {
      start: (next) => {
        if (!method.path.startsWith('/dagger.exec.Exec/')) return next();
        next({
          onReceiveMetadata: (metadata, mdNext) => {
            if (!health.has(HEALTH_PROBLEM.draining)) return mdNext(metadata);
            call.sendStatus({ code: status.UNAVAILABLE, details: DRAIN_MESSAGE, metadata: new Metadata() });
          },
        });
      },
    });
}
