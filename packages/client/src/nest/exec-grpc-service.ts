import type { Metadata } from '@grpc/grpc-js';
import type { Observable } from 'rxjs';
import type {
  ContainerControlRequest,
  ContainerControlResponse__Output,
  ContainerLifecycleEvent__Output,
  ContainerLifecycleRequest,
  ContainerSignalRequest,
  ContainerStatusRequest,
  ContainerStatusResponse__Output,
  CopyFromRequest,
  CopyFromResponse__Output,
  CopyToRequest,
  CopyToResponse__Output,
  ListSessionsRequest,
  ListSessionsResponse__Output,
  SessionRequest,
  SessionResponse__Output,
} from '../gen';
import { EXEC_SERVICE } from './grpc-client-options';

/**
 * dagger.exec.Exec as Nest's ClientGrpc.getService() shows it (camelCase method names, Observables),
 * typed by the generated wire types of the loader options in execGrpcClientOptions. Each call is a
 * cold Observable: every subscription is a new call (a new Session = a new process).
 */
export interface ExecGrpcService {
  session(requests: Observable<SessionRequest>, metadata?: Metadata): Observable<SessionResponse__Output>;
  containerLifecycle(request: ContainerLifecycleRequest, metadata?: Metadata): Observable<ContainerLifecycleEvent__Output>;
  containerStatus(request: ContainerStatusRequest, metadata?: Metadata): Observable<ContainerStatusResponse__Output>;
  containerPause(request: ContainerControlRequest, metadata?: Metadata): Observable<ContainerControlResponse__Output>;
  containerResume(request: ContainerControlRequest, metadata?: Metadata): Observable<ContainerControlResponse__Output>;
  containerSignal(request: ContainerSignalRequest, metadata?: Metadata): Observable<ContainerControlResponse__Output>;
  listSessions(request: ListSessionsRequest, metadata?: Metadata): Observable<ListSessionsResponse__Output>;
  /** A client stream: the Observable's first value is the header, then tar bytes; one response when it completes. */
  copyTo(requests: Observable<CopyToRequest>, metadata?: Metadata): Observable<CopyToResponse__Output>;
  copyFrom(request: CopyFromRequest, metadata?: Metadata): Observable<CopyFromResponse__Output>;
}

/** The part of Nest's ClientGrpc this needs (so that @nestjs/microservices is not a dependency). */
export interface GrpcServiceSource {
  getService<T extends object>(name: string): T;
}

type AnyMethod = (...args: unknown[]) => unknown;

/**
 * ClientGrpc.getService('Exec'), typed, with one pitfall removed: Nest passes every argument on to
 * grpc-js, so `containerStatus(req, undefined)` (a wrapper forwarding an optional Metadata) put
 * `undefined` where grpc-js expects call options and threw "Cannot read properties of undefined
 * (reading 'interceptors')". Trailing undefined arguments are dropped here.
 */
export function execGrpcService(client: GrpcServiceSource): ExecGrpcService {
  const raw = client.getService<Record<string, AnyMethod>>(EXEC_SERVICE);
  const service: Record<string, AnyMethod> = {};
  for (const [name, method] of Object.entries(raw)) {
    service[name] = (...args: unknown[]) => {
      while (args.length && args[args.length - 1] === undefined) args.pop();
      return method(...args);
    };
  }
  return service as unknown as ExecGrpcService;
}
