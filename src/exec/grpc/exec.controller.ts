import { Controller } from '@nestjs/common';
import { GrpcMethod, GrpcStreamCall } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
import type {
  ContainerControlRequest__Output,
  ContainerControlResponse,
  ContainerLifecycleRequest__Output,
  ContainerSignalRequest__Output,
  ContainerStatusRequest__Output,
  ContainerStatusResponse,
} from '@exec-stream/client/wire';
import { ContainerControlService, ContainerStatusService } from '../container';
import { LifecycleCallHandler, type LifecycleCallStream } from './lifecycle-call.handler';
import { SessionCallHandler, type SessionCallStream } from './session-call.handler';

/**
 * The gRPC edge of the Exec service: proto messages in, domain calls out. Session uses
 * @GrpcStreamCall (the raw grpc-js call) because its write()/'drain' is real flow control;
 * @GrpcStreamMethod's Observables would buffer without bound for a slow client.
 */
@Controller()
export class ExecController {
  constructor(
    private readonly sessionCalls: SessionCallHandler,
    private readonly lifecycleCalls: LifecycleCallHandler,
    private readonly statuses: ContainerStatusService,
    private readonly controls: ContainerControlService,
  ) {}

  @GrpcStreamCall('Exec', 'Session')
  session(call: SessionCallStream): Promise<void> {
    return this.sessionCalls.handle(call);
  }

  // A server stream: Nest hands the raw grpc-js call over as the third argument (@GrpcStreamCall only
  // applies to client-streaming methods); the handler writes to it with flow control itself.
  @GrpcMethod('Exec', 'ContainerLifecycle')
  containerLifecycle(req: ContainerLifecycleRequest__Output, _metadata: unknown, call: LifecycleCallStream): Observable<never> {
    return this.lifecycleCalls.handle(req, call);
  }

  @GrpcMethod('Exec', 'ContainerStatus')
  containerStatus(req: ContainerStatusRequest__Output): Promise<ContainerStatusResponse> {
    return this.statuses.status(req);
  }

  @GrpcMethod('Exec', 'ContainerPause')
  containerPause(req: ContainerControlRequest__Output): Promise<ContainerControlResponse> {
    return this.controls.pause(req.container_id);
  }

  @GrpcMethod('Exec', 'ContainerResume')
  containerResume(req: ContainerControlRequest__Output): Promise<ContainerControlResponse> {
    return this.controls.resume(req.container_id);
  }

  @GrpcMethod('Exec', 'ContainerSignal')
  containerSignal(req: ContainerSignalRequest__Output): Promise<ContainerControlResponse> {
    return this.controls.signal(req);
  }
}
