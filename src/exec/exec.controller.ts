import { Controller } from '@nestjs/common';
import { GrpcStreamCall } from '@nestjs/microservices';
import { SessionCallHandler, type SessionCallStream } from './session-call';

/**
 * The gRPC edge of the Exec service: proto messages in, domain calls out. Session uses
 * @GrpcStreamCall (the raw grpc-js call) because its write()/'drain' is real flow control;
 * @GrpcStreamMethod's Observables would buffer without bound for a slow client.
 */
@Controller()
export class ExecController {
  constructor(private readonly sessionCalls: SessionCallHandler) {}

  @GrpcStreamCall('Exec', 'Session')
  session(call: SessionCallStream): Promise<void> {
    return this.sessionCalls.handle(call);
  }
}
