import { ServerInterceptingCall, type MethodDefinition, type ServerInterceptor, type ServiceDefinition } from '@grpc/grpc-js';
import { ExecError, toGrpcStatus } from '../../../common/errors';

/** What a request deserializer returns for bytes that are not the method's message. */
export class UndecodableRequest {
  constructor(readonly details: string) {}
}

/**
 * Makes every request deserializer of `service` total: bytes that do not decode become an
 * UndecodableRequest instead of a throw, which grpc-js would answer INTERNAL ("Error deserializing
 * request"), a server fault, for what is the client's mistake. undecodableRequestInterceptor answers it.
 */
export function totalDeserializers(service: ServiceDefinition): void {
  for (const [name, method] of Object.entries(service) as Array<[string, MethodDefinition<unknown, unknown>]>) {
    const decode = method.requestDeserialize;
    method.requestDeserialize = (bytes: Buffer) => {
      try {
        return decode(bytes);
      } catch (err) {
        const why = String((err as Error)?.message ?? err).slice(0, 200);
        return new UndecodableRequest(`the ${name} request is not a valid protobuf message (${bytes.length} bytes): ${why}`);
      }
    };
  }
}

/** Ends a call whose request did not decode with INVALID_ARGUMENT, before any handler sees it. */
export const undecodableRequestInterceptor: ServerInterceptor = (_method, call) =>
  new ServerInterceptingCall(call, {
    start: (next) =>
      next({
        onReceiveMessage: (message, nextMessage) => {
          if (message instanceof UndecodableRequest) {
            call.sendStatus(toGrpcStatus(new ExecError('invalid', message.details, { reason: 'MESSAGE_UNDECODABLE' })));
            return;
          }
          nextMessage(message);
        },
      }),
  });
