import { ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import { boundMessage } from '../../../common/errors';
import { longStringsOf, quoteCallerValues } from '../../../common/request-ids';

/**
 * Keeps the promise that a status message quotes a client's value in part only (32 characters at most,
 * docs/PROTOCOL.md "Errors"), whoever wrote the message: the service's own messages quote through
 * `quoted()`, and this interceptor applies it to what they did not quote, Docker's words above all
 * (they repeat ids, images, paths and user names in full), using the long strings of the call's requests.
 */
export const callerQuotesInterceptor: ServerInterceptor = (_method, call) => {
  const values: string[] = [];
  return new ServerInterceptingCall(call, {
    start: (next) =>
      next({
        onReceiveMessage: (message, nextMessage) => {
          longStringsOf(message, values);
          nextMessage(message);
        },
      }),
    sendStatus: (s, next) => {
      if (s.code === status.OK || !values.length || !s.details) return next(s);
      next({ ...s, details: boundMessage(quoteCallerValues(s.details, values)) });
    },
  });
};
