import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod, GrpcStreamCall } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
import type {
  AuditEventsRequest__Output,
  ContainerControlRequest__Output,
  ContainerControlResponse,
  ContainerLifecycleRequest__Output,
  ContainerSignalRequest__Output,
  ContainerStatusRequest__Output,
  ContainerStatusResponse,
  CopyFromRequest__Output,
  ListSessionsRequest__Output,
  ListSessionsResponse,
  RemoveSessionRequest__Output,
  RemoveSessionResponse,
  SessionResizesRequest__Output,
  SessionResizesResponse,
} from '@exec-stream/client/wire';
import { requiredId } from '../../common/request-ids';
import { RoutedCalls } from '../cluster';
import { ContainerControlHandler } from './container-control.handler';
import { ContainerStatusHandler } from './container-status.handler';
import { SessionManager } from '../session';
import { CopyFilesHandler, type CopyFromCallStream, type CopyToCallback, type CopyToCallStream } from './copy-files.handler';
import { LifecycleCallHandler, type LifecycleCallStream } from './lifecycle-call.handler';
import { ListSessionsHandler } from './list-sessions.handler';
import { SessionCallHandler, type SessionCallStream } from './session-call.handler';
import { AuditEventsHandler, type AuditEventsCallStream } from './audit-events.handler';
import { SessionResizesHandler } from './session-resizes.handler';
import { boundCallContext } from './auth/call-context';
import { noteContainer } from './auth/call-audit';

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
    private readonly statuses: ContainerStatusHandler,
    private readonly controls: ContainerControlHandler,
    private readonly copies: CopyFilesHandler,
    private readonly listings: ListSessionsHandler,
    private readonly routed: RoutedCalls,
    private readonly audits: AuditEventsHandler,
    private readonly resizes: SessionResizesHandler,
    private readonly sessions: SessionManager,
  ) {}

  @GrpcStreamCall('Exec', 'Session')
  session(call: SessionCallStream): Promise<void> {
    return this.sessionCalls.handle(call);
  }

  // A server stream: Nest hands the raw grpc-js call over as the third argument (@GrpcStreamCall only
  // applies to client-streaming methods); the handler writes to it with flow control itself.
  @GrpcMethod('Exec', 'ContainerLifecycle')
  containerLifecycle(req: ContainerLifecycleRequest__Output, _metadata: Metadata, call: LifecycleCallStream): Observable<never> {
    return this.lifecycleCalls.handle(req, call);
  }

  // Calls about one container are served by the replica whose engine has it (docs/SCALING.md).
  @GrpcMethod('Exec', 'ContainerStatus')
  containerStatus(req: ContainerStatusRequest__Output, metadata: Metadata, call: ServerUnaryCall<unknown, unknown>): Promise<ContainerStatusResponse> {
    return this.routed.unaryForContainer('ContainerStatus', req.container_id, req, metadata, call.getDeadline(), () =>
      this.served(metadata, req.container_id, undefined, () => this.statuses.status(req)),
    );
  }

  @GrpcMethod('Exec', 'ContainerPause')
  containerPause(req: ContainerControlRequest__Output, metadata: Metadata, call: ServerUnaryCall<unknown, unknown>): Promise<ContainerControlResponse> {
    return this.routed.unaryForContainer('ContainerPause', req.container_id, req, metadata, call.getDeadline(), () =>
      this.served(metadata, req.container_id, undefined, () => this.controls.pause(req.container_id)),
    );
  }

  @GrpcMethod('Exec', 'ContainerResume')
  containerResume(req: ContainerControlRequest__Output, metadata: Metadata, call: ServerUnaryCall<unknown, unknown>): Promise<ContainerControlResponse> {
    return this.routed.unaryForContainer('ContainerResume', req.container_id, req, metadata, call.getDeadline(), () =>
      this.served(metadata, req.container_id, undefined, () => this.controls.resume(req.container_id)),
    );
  }

  @GrpcMethod('Exec', 'ContainerSignal')
  containerSignal(req: ContainerSignalRequest__Output, metadata: Metadata, call: ServerUnaryCall<unknown, unknown>): Promise<ContainerControlResponse> {
    return this.routed.unaryForContainer('ContainerSignal', req.container_id, req, metadata, call.getDeadline(), () =>
      this.served(metadata, req.container_id, req.exec_id, () => this.controls.signal(req)),
    );
  }

  @GrpcMethod('Exec', 'ListSessions')
  listSessions(req: ListSessionsRequest__Output, metadata: Metadata): Promise<ListSessionsResponse> {
    return this.listings.list(req, metadata);
  }

  // Served by the replica the session id names, as an attach is.
  @GrpcMethod('Exec', 'RemoveSession')
  removeSession(req: RemoveSessionRequest__Output, metadata: Metadata, call: ServerUnaryCall<unknown, unknown>): Promise<RemoveSessionResponse> {
    const id = requiredId('session_id', req.session_id, 'the id of a session (Ready.session_id)');
    return this.routed.unaryForSession('RemoveSession', id, req, metadata, call.getDeadline(), async () => ({
      session_id: id,
      ...(await this.sessions.remove(id, !!req.force)),
    }));
  }

  // The audit trail (docs/AUDIT.md): every replica's, merged, unless forwarded.
  @GrpcMethod('Exec', 'AuditEvents')
  auditEvents(req: AuditEventsRequest__Output, _metadata: Metadata, call: AuditEventsCallStream): Observable<never> {
    return this.audits.handle(req, call);
  }

  @GrpcMethod('Exec', 'SessionResizes')
  sessionResizes(req: SessionResizesRequest__Output, metadata: Metadata, call: ServerUnaryCall<unknown, unknown>): Promise<SessionResizesResponse> {
    return this.routed.unaryForSession('SessionResizes', req.session_id, req, metadata, call.getDeadline(), () =>
      Promise.resolve().then(() => this.resizes.resizes(req)),
    );
  }

  // Client streaming: Nest hands over the raw call and the unary callback; the handler answers through it.
  @GrpcStreamCall('Exec', 'CopyTo')
  copyTo(call: CopyToCallStream, callback: CopyToCallback): Promise<void> {
    return this.copies.copyTo(call, callback);
  }

  /**
   * A container call served here: once done (or refused), its audit event gets the container's full id
   * and its session (the request may give a prefix).
   */
  private async served<T>(metadata: Metadata, containerId: string | undefined, execId: string | undefined, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } finally {
      noteContainer(boundCallContext(metadata), this.sessions, containerId, execId);
    }
  }

  @GrpcMethod('Exec', 'CopyFrom')
  copyFrom(req: CopyFromRequest__Output, _metadata: unknown, call: CopyFromCallStream): Observable<never> {
    return this.copies.copyFrom(req, call);
  }
}
