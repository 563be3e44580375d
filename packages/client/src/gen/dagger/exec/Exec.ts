// Original file: proto/exec.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AuditEventsRequest as _dagger_exec_AuditEventsRequest, AuditEventsRequest__Output as _dagger_exec_AuditEventsRequest__Output } from '../../dagger/exec/AuditEventsRequest';
import type { AuditEventsResponse as _dagger_exec_AuditEventsResponse, AuditEventsResponse__Output as _dagger_exec_AuditEventsResponse__Output } from '../../dagger/exec/AuditEventsResponse';
import type { ContainerControlRequest as _dagger_exec_ContainerControlRequest, ContainerControlRequest__Output as _dagger_exec_ContainerControlRequest__Output } from '../../dagger/exec/ContainerControlRequest';
import type { ContainerControlResponse as _dagger_exec_ContainerControlResponse, ContainerControlResponse__Output as _dagger_exec_ContainerControlResponse__Output } from '../../dagger/exec/ContainerControlResponse';
import type { ContainerLifecycleEvent as _dagger_exec_ContainerLifecycleEvent, ContainerLifecycleEvent__Output as _dagger_exec_ContainerLifecycleEvent__Output } from '../../dagger/exec/ContainerLifecycleEvent';
import type { ContainerLifecycleRequest as _dagger_exec_ContainerLifecycleRequest, ContainerLifecycleRequest__Output as _dagger_exec_ContainerLifecycleRequest__Output } from '../../dagger/exec/ContainerLifecycleRequest';
import type { ContainerSignalRequest as _dagger_exec_ContainerSignalRequest, ContainerSignalRequest__Output as _dagger_exec_ContainerSignalRequest__Output } from '../../dagger/exec/ContainerSignalRequest';
import type { ContainerStatusRequest as _dagger_exec_ContainerStatusRequest, ContainerStatusRequest__Output as _dagger_exec_ContainerStatusRequest__Output } from '../../dagger/exec/ContainerStatusRequest';
import type { ContainerStatusResponse as _dagger_exec_ContainerStatusResponse, ContainerStatusResponse__Output as _dagger_exec_ContainerStatusResponse__Output } from '../../dagger/exec/ContainerStatusResponse';
import type { CopyFromRequest as _dagger_exec_CopyFromRequest, CopyFromRequest__Output as _dagger_exec_CopyFromRequest__Output } from '../../dagger/exec/CopyFromRequest';
import type { CopyFromResponse as _dagger_exec_CopyFromResponse, CopyFromResponse__Output as _dagger_exec_CopyFromResponse__Output } from '../../dagger/exec/CopyFromResponse';
import type { CopyToRequest as _dagger_exec_CopyToRequest, CopyToRequest__Output as _dagger_exec_CopyToRequest__Output } from '../../dagger/exec/CopyToRequest';
import type { CopyToResponse as _dagger_exec_CopyToResponse, CopyToResponse__Output as _dagger_exec_CopyToResponse__Output } from '../../dagger/exec/CopyToResponse';
import type { ListSessionsRequest as _dagger_exec_ListSessionsRequest, ListSessionsRequest__Output as _dagger_exec_ListSessionsRequest__Output } from '../../dagger/exec/ListSessionsRequest';
import type { ListSessionsResponse as _dagger_exec_ListSessionsResponse, ListSessionsResponse__Output as _dagger_exec_ListSessionsResponse__Output } from '../../dagger/exec/ListSessionsResponse';
import type { RemoveSessionRequest as _dagger_exec_RemoveSessionRequest, RemoveSessionRequest__Output as _dagger_exec_RemoveSessionRequest__Output } from '../../dagger/exec/RemoveSessionRequest';
import type { RemoveSessionResponse as _dagger_exec_RemoveSessionResponse, RemoveSessionResponse__Output as _dagger_exec_RemoveSessionResponse__Output } from '../../dagger/exec/RemoveSessionResponse';
import type { SessionRequest as _dagger_exec_SessionRequest, SessionRequest__Output as _dagger_exec_SessionRequest__Output } from '../../dagger/exec/SessionRequest';
import type { SessionResizesRequest as _dagger_exec_SessionResizesRequest, SessionResizesRequest__Output as _dagger_exec_SessionResizesRequest__Output } from '../../dagger/exec/SessionResizesRequest';
import type { SessionResizesResponse as _dagger_exec_SessionResizesResponse, SessionResizesResponse__Output as _dagger_exec_SessionResizesResponse__Output } from '../../dagger/exec/SessionResizesResponse';
import type { SessionResponse as _dagger_exec_SessionResponse, SessionResponse__Output as _dagger_exec_SessionResponse__Output } from '../../dagger/exec/SessionResponse';

export interface ExecClient extends grpc.Client {
  /**
   * exec-stream: the audit trail (docs/AUDIT.md): who did what, when and from where, filtered; the held
   * events in order, then with `follow` the live ones. Scope `audit`. With replicas, every replica's
   * trail, merged by time.
   */
  AuditEvents(argument: _dagger_exec_AuditEventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_dagger_exec_AuditEventsResponse__Output>;
  AuditEvents(argument: _dagger_exec_AuditEventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_dagger_exec_AuditEventsResponse__Output>;
  /**
   * exec-stream: the audit trail (docs/AUDIT.md): who did what, when and from where, filtered; the held
   * events in order, then with `follow` the live ones. Scope `audit`. With replicas, every replica's
   * trail, merged by time.
   */
  auditEvents(argument: _dagger_exec_AuditEventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_dagger_exec_AuditEventsResponse__Output>;
  auditEvents(argument: _dagger_exec_AuditEventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_dagger_exec_AuditEventsResponse__Output>;
  
  ContainerLifecycle(argument: _dagger_exec_ContainerLifecycleRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_dagger_exec_ContainerLifecycleEvent__Output>;
  ContainerLifecycle(argument: _dagger_exec_ContainerLifecycleRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_dagger_exec_ContainerLifecycleEvent__Output>;
  containerLifecycle(argument: _dagger_exec_ContainerLifecycleRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_dagger_exec_ContainerLifecycleEvent__Output>;
  containerLifecycle(argument: _dagger_exec_ContainerLifecycleRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_dagger_exec_ContainerLifecycleEvent__Output>;
  
  ContainerPause(argument: _dagger_exec_ContainerControlRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  ContainerPause(argument: _dagger_exec_ContainerControlRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  ContainerPause(argument: _dagger_exec_ContainerControlRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  ContainerPause(argument: _dagger_exec_ContainerControlRequest, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  containerPause(argument: _dagger_exec_ContainerControlRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  containerPause(argument: _dagger_exec_ContainerControlRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  containerPause(argument: _dagger_exec_ContainerControlRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  containerPause(argument: _dagger_exec_ContainerControlRequest, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  
  ContainerResume(argument: _dagger_exec_ContainerControlRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  ContainerResume(argument: _dagger_exec_ContainerControlRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  ContainerResume(argument: _dagger_exec_ContainerControlRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  ContainerResume(argument: _dagger_exec_ContainerControlRequest, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  containerResume(argument: _dagger_exec_ContainerControlRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  containerResume(argument: _dagger_exec_ContainerControlRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  containerResume(argument: _dagger_exec_ContainerControlRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  containerResume(argument: _dagger_exec_ContainerControlRequest, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  
  ContainerSignal(argument: _dagger_exec_ContainerSignalRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  ContainerSignal(argument: _dagger_exec_ContainerSignalRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  ContainerSignal(argument: _dagger_exec_ContainerSignalRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  ContainerSignal(argument: _dagger_exec_ContainerSignalRequest, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  containerSignal(argument: _dagger_exec_ContainerSignalRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  containerSignal(argument: _dagger_exec_ContainerSignalRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  containerSignal(argument: _dagger_exec_ContainerSignalRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  containerSignal(argument: _dagger_exec_ContainerSignalRequest, callback: grpc.requestCallback<_dagger_exec_ContainerControlResponse__Output>): grpc.ClientUnaryCall;
  
  ContainerStatus(argument: _dagger_exec_ContainerStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_ContainerStatusResponse__Output>): grpc.ClientUnaryCall;
  ContainerStatus(argument: _dagger_exec_ContainerStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dagger_exec_ContainerStatusResponse__Output>): grpc.ClientUnaryCall;
  ContainerStatus(argument: _dagger_exec_ContainerStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_ContainerStatusResponse__Output>): grpc.ClientUnaryCall;
  ContainerStatus(argument: _dagger_exec_ContainerStatusRequest, callback: grpc.requestCallback<_dagger_exec_ContainerStatusResponse__Output>): grpc.ClientUnaryCall;
  containerStatus(argument: _dagger_exec_ContainerStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_ContainerStatusResponse__Output>): grpc.ClientUnaryCall;
  containerStatus(argument: _dagger_exec_ContainerStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dagger_exec_ContainerStatusResponse__Output>): grpc.ClientUnaryCall;
  containerStatus(argument: _dagger_exec_ContainerStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_ContainerStatusResponse__Output>): grpc.ClientUnaryCall;
  containerStatus(argument: _dagger_exec_ContainerStatusRequest, callback: grpc.requestCallback<_dagger_exec_ContainerStatusResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * exec-stream: a path of a managed container as a tar stream (Docker's archive API).
   */
  CopyFrom(argument: _dagger_exec_CopyFromRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_dagger_exec_CopyFromResponse__Output>;
  CopyFrom(argument: _dagger_exec_CopyFromRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_dagger_exec_CopyFromResponse__Output>;
  /**
   * exec-stream: a path of a managed container as a tar stream (Docker's archive API).
   */
  copyFrom(argument: _dagger_exec_CopyFromRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_dagger_exec_CopyFromResponse__Output>;
  copyFrom(argument: _dagger_exec_CopyFromRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_dagger_exec_CopyFromResponse__Output>;
  
  /**
   * exec-stream: a tar stream unpacked at a path of a managed container (Docker's archive API).
   */
  CopyTo(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_CopyToResponse__Output>): grpc.ClientWritableStream<_dagger_exec_CopyToRequest>;
  CopyTo(metadata: grpc.Metadata, callback: grpc.requestCallback<_dagger_exec_CopyToResponse__Output>): grpc.ClientWritableStream<_dagger_exec_CopyToRequest>;
  CopyTo(options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_CopyToResponse__Output>): grpc.ClientWritableStream<_dagger_exec_CopyToRequest>;
  CopyTo(callback: grpc.requestCallback<_dagger_exec_CopyToResponse__Output>): grpc.ClientWritableStream<_dagger_exec_CopyToRequest>;
  /**
   * exec-stream: a tar stream unpacked at a path of a managed container (Docker's archive API).
   */
  copyTo(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_CopyToResponse__Output>): grpc.ClientWritableStream<_dagger_exec_CopyToRequest>;
  copyTo(metadata: grpc.Metadata, callback: grpc.requestCallback<_dagger_exec_CopyToResponse__Output>): grpc.ClientWritableStream<_dagger_exec_CopyToRequest>;
  copyTo(options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_CopyToResponse__Output>): grpc.ClientWritableStream<_dagger_exec_CopyToRequest>;
  copyTo(callback: grpc.requestCallback<_dagger_exec_CopyToResponse__Output>): grpc.ClientWritableStream<_dagger_exec_CopyToRequest>;
  
  /**
   * exec-stream: the sessions this service holds (running and retained), filtered and paginated.
   */
  ListSessions(argument: _dagger_exec_ListSessionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_ListSessionsResponse__Output>): grpc.ClientUnaryCall;
  ListSessions(argument: _dagger_exec_ListSessionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dagger_exec_ListSessionsResponse__Output>): grpc.ClientUnaryCall;
  ListSessions(argument: _dagger_exec_ListSessionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_ListSessionsResponse__Output>): grpc.ClientUnaryCall;
  ListSessions(argument: _dagger_exec_ListSessionsRequest, callback: grpc.requestCallback<_dagger_exec_ListSessionsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * exec-stream: the sessions this service holds (running and retained), filtered and paginated.
   */
  listSessions(argument: _dagger_exec_ListSessionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_ListSessionsResponse__Output>): grpc.ClientUnaryCall;
  listSessions(argument: _dagger_exec_ListSessionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dagger_exec_ListSessionsResponse__Output>): grpc.ClientUnaryCall;
  listSessions(argument: _dagger_exec_ListSessionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_ListSessionsResponse__Output>): grpc.ClientUnaryCall;
  listSessions(argument: _dagger_exec_ListSessionsRequest, callback: grpc.requestCallback<_dagger_exec_ListSessionsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * exec-stream: forgets a finished session before its retention ends (its record and output files go;
   * clients still reading it are ended with NOT_FOUND). A running one is FAILED_PRECONDITION unless
   * `force`, which first kills its process (SIGKILL), as `docker rm -f`. Scope `control`.
   */
  RemoveSession(argument: _dagger_exec_RemoveSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_RemoveSessionResponse__Output>): grpc.ClientUnaryCall;
  RemoveSession(argument: _dagger_exec_RemoveSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dagger_exec_RemoveSessionResponse__Output>): grpc.ClientUnaryCall;
  RemoveSession(argument: _dagger_exec_RemoveSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_RemoveSessionResponse__Output>): grpc.ClientUnaryCall;
  RemoveSession(argument: _dagger_exec_RemoveSessionRequest, callback: grpc.requestCallback<_dagger_exec_RemoveSessionResponse__Output>): grpc.ClientUnaryCall;
  /**
   * exec-stream: forgets a finished session before its retention ends (its record and output files go;
   * clients still reading it are ended with NOT_FOUND). A running one is FAILED_PRECONDITION unless
   * `force`, which first kills its process (SIGKILL), as `docker rm -f`. Scope `control`.
   */
  removeSession(argument: _dagger_exec_RemoveSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_RemoveSessionResponse__Output>): grpc.ClientUnaryCall;
  removeSession(argument: _dagger_exec_RemoveSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dagger_exec_RemoveSessionResponse__Output>): grpc.ClientUnaryCall;
  removeSession(argument: _dagger_exec_RemoveSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_RemoveSessionResponse__Output>): grpc.ClientUnaryCall;
  removeSession(argument: _dagger_exec_RemoveSessionRequest, callback: grpc.requestCallback<_dagger_exec_RemoveSessionResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Start -> Ready -> stdout/stderr (or output_chunk) as produced -> exit -> end of call (OK).
   */
  Session(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dagger_exec_SessionRequest, _dagger_exec_SessionResponse__Output>;
  Session(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dagger_exec_SessionRequest, _dagger_exec_SessionResponse__Output>;
  /**
   * Start -> Ready -> stdout/stderr (or output_chunk) as produced -> exit -> end of call (OK).
   */
  session(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dagger_exec_SessionRequest, _dagger_exec_SessionResponse__Output>;
  session(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dagger_exec_SessionRequest, _dagger_exec_SessionResponse__Output>;
  
  /**
   * exec-stream: a TTY session's terminal sizes with their times, recorded beside its output (its
   * recording's resize events, docs/DURABILITY.md). Scope `read`.
   */
  SessionResizes(argument: _dagger_exec_SessionResizesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_SessionResizesResponse__Output>): grpc.ClientUnaryCall;
  SessionResizes(argument: _dagger_exec_SessionResizesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dagger_exec_SessionResizesResponse__Output>): grpc.ClientUnaryCall;
  SessionResizes(argument: _dagger_exec_SessionResizesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_SessionResizesResponse__Output>): grpc.ClientUnaryCall;
  SessionResizes(argument: _dagger_exec_SessionResizesRequest, callback: grpc.requestCallback<_dagger_exec_SessionResizesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * exec-stream: a TTY session's terminal sizes with their times, recorded beside its output (its
   * recording's resize events, docs/DURABILITY.md). Scope `read`.
   */
  sessionResizes(argument: _dagger_exec_SessionResizesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_SessionResizesResponse__Output>): grpc.ClientUnaryCall;
  sessionResizes(argument: _dagger_exec_SessionResizesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dagger_exec_SessionResizesResponse__Output>): grpc.ClientUnaryCall;
  sessionResizes(argument: _dagger_exec_SessionResizesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dagger_exec_SessionResizesResponse__Output>): grpc.ClientUnaryCall;
  sessionResizes(argument: _dagger_exec_SessionResizesRequest, callback: grpc.requestCallback<_dagger_exec_SessionResizesResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ExecHandlers extends grpc.UntypedServiceImplementation {
  /**
   * exec-stream: the audit trail (docs/AUDIT.md): who did what, when and from where, filtered; the held
   * events in order, then with `follow` the live ones. Scope `audit`. With replicas, every replica's
   * trail, merged by time.
   */
  AuditEvents: grpc.handleServerStreamingCall<_dagger_exec_AuditEventsRequest__Output, _dagger_exec_AuditEventsResponse>;
  
  ContainerLifecycle: grpc.handleServerStreamingCall<_dagger_exec_ContainerLifecycleRequest__Output, _dagger_exec_ContainerLifecycleEvent>;
  
  ContainerPause: grpc.handleUnaryCall<_dagger_exec_ContainerControlRequest__Output, _dagger_exec_ContainerControlResponse>;
  
  ContainerResume: grpc.handleUnaryCall<_dagger_exec_ContainerControlRequest__Output, _dagger_exec_ContainerControlResponse>;
  
  ContainerSignal: grpc.handleUnaryCall<_dagger_exec_ContainerSignalRequest__Output, _dagger_exec_ContainerControlResponse>;
  
  ContainerStatus: grpc.handleUnaryCall<_dagger_exec_ContainerStatusRequest__Output, _dagger_exec_ContainerStatusResponse>;
  
  /**
   * exec-stream: a path of a managed container as a tar stream (Docker's archive API).
   */
  CopyFrom: grpc.handleServerStreamingCall<_dagger_exec_CopyFromRequest__Output, _dagger_exec_CopyFromResponse>;
  
  /**
   * exec-stream: a tar stream unpacked at a path of a managed container (Docker's archive API).
   */
  CopyTo: grpc.handleClientStreamingCall<_dagger_exec_CopyToRequest__Output, _dagger_exec_CopyToResponse>;
  
  /**
   * exec-stream: the sessions this service holds (running and retained), filtered and paginated.
   */
  ListSessions: grpc.handleUnaryCall<_dagger_exec_ListSessionsRequest__Output, _dagger_exec_ListSessionsResponse>;
  
  /**
   * exec-stream: forgets a finished session before its retention ends (its record and output files go;
   * clients still reading it are ended with NOT_FOUND). A running one is FAILED_PRECONDITION unless
   * `force`, which first kills its process (SIGKILL), as `docker rm -f`. Scope `control`.
   */
  RemoveSession: grpc.handleUnaryCall<_dagger_exec_RemoveSessionRequest__Output, _dagger_exec_RemoveSessionResponse>;
  
  /**
   * Start -> Ready -> stdout/stderr (or output_chunk) as produced -> exit -> end of call (OK).
   */
  Session: grpc.handleBidiStreamingCall<_dagger_exec_SessionRequest__Output, _dagger_exec_SessionResponse>;
  
  /**
   * exec-stream: a TTY session's terminal sizes with their times, recorded beside its output (its
   * recording's resize events, docs/DURABILITY.md). Scope `read`.
   */
  SessionResizes: grpc.handleUnaryCall<_dagger_exec_SessionResizesRequest__Output, _dagger_exec_SessionResizesResponse>;
  
}

export interface ExecDefinition extends grpc.ServiceDefinition {
  AuditEvents: MethodDefinition<_dagger_exec_AuditEventsRequest, _dagger_exec_AuditEventsResponse, _dagger_exec_AuditEventsRequest__Output, _dagger_exec_AuditEventsResponse__Output>
  ContainerLifecycle: MethodDefinition<_dagger_exec_ContainerLifecycleRequest, _dagger_exec_ContainerLifecycleEvent, _dagger_exec_ContainerLifecycleRequest__Output, _dagger_exec_ContainerLifecycleEvent__Output>
  ContainerPause: MethodDefinition<_dagger_exec_ContainerControlRequest, _dagger_exec_ContainerControlResponse, _dagger_exec_ContainerControlRequest__Output, _dagger_exec_ContainerControlResponse__Output>
  ContainerResume: MethodDefinition<_dagger_exec_ContainerControlRequest, _dagger_exec_ContainerControlResponse, _dagger_exec_ContainerControlRequest__Output, _dagger_exec_ContainerControlResponse__Output>
  ContainerSignal: MethodDefinition<_dagger_exec_ContainerSignalRequest, _dagger_exec_ContainerControlResponse, _dagger_exec_ContainerSignalRequest__Output, _dagger_exec_ContainerControlResponse__Output>
  ContainerStatus: MethodDefinition<_dagger_exec_ContainerStatusRequest, _dagger_exec_ContainerStatusResponse, _dagger_exec_ContainerStatusRequest__Output, _dagger_exec_ContainerStatusResponse__Output>
  CopyFrom: MethodDefinition<_dagger_exec_CopyFromRequest, _dagger_exec_CopyFromResponse, _dagger_exec_CopyFromRequest__Output, _dagger_exec_CopyFromResponse__Output>
  CopyTo: MethodDefinition<_dagger_exec_CopyToRequest, _dagger_exec_CopyToResponse, _dagger_exec_CopyToRequest__Output, _dagger_exec_CopyToResponse__Output>
  ListSessions: MethodDefinition<_dagger_exec_ListSessionsRequest, _dagger_exec_ListSessionsResponse, _dagger_exec_ListSessionsRequest__Output, _dagger_exec_ListSessionsResponse__Output>
  RemoveSession: MethodDefinition<_dagger_exec_RemoveSessionRequest, _dagger_exec_RemoveSessionResponse, _dagger_exec_RemoveSessionRequest__Output, _dagger_exec_RemoveSessionResponse__Output>
  Session: MethodDefinition<_dagger_exec_SessionRequest, _dagger_exec_SessionResponse, _dagger_exec_SessionRequest__Output, _dagger_exec_SessionResponse__Output>
  SessionResizes: MethodDefinition<_dagger_exec_SessionResizesRequest, _dagger_exec_SessionResizesResponse, _dagger_exec_SessionResizesRequest__Output, _dagger_exec_SessionResizesResponse__Output>
}
