import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AuditCaller as _dagger_exec_AuditCaller, AuditCaller__Output as _dagger_exec_AuditCaller__Output } from './dagger/exec/AuditCaller';
import type { AuditEvent as _dagger_exec_AuditEvent, AuditEvent__Output as _dagger_exec_AuditEvent__Output } from './dagger/exec/AuditEvent';
import type { AuditEventsRequest as _dagger_exec_AuditEventsRequest, AuditEventsRequest__Output as _dagger_exec_AuditEventsRequest__Output } from './dagger/exec/AuditEventsRequest';
import type { AuditEventsResponse as _dagger_exec_AuditEventsResponse, AuditEventsResponse__Output as _dagger_exec_AuditEventsResponse__Output } from './dagger/exec/AuditEventsResponse';
import type { AuditRequest as _dagger_exec_AuditRequest, AuditRequest__Output as _dagger_exec_AuditRequest__Output } from './dagger/exec/AuditRequest';
import type { ContainerControlRequest as _dagger_exec_ContainerControlRequest, ContainerControlRequest__Output as _dagger_exec_ContainerControlRequest__Output } from './dagger/exec/ContainerControlRequest';
import type { ContainerControlResponse as _dagger_exec_ContainerControlResponse, ContainerControlResponse__Output as _dagger_exec_ContainerControlResponse__Output } from './dagger/exec/ContainerControlResponse';
import type { ContainerLifecycleEvent as _dagger_exec_ContainerLifecycleEvent, ContainerLifecycleEvent__Output as _dagger_exec_ContainerLifecycleEvent__Output } from './dagger/exec/ContainerLifecycleEvent';
import type { ContainerLifecycleRequest as _dagger_exec_ContainerLifecycleRequest, ContainerLifecycleRequest__Output as _dagger_exec_ContainerLifecycleRequest__Output } from './dagger/exec/ContainerLifecycleRequest';
import type { ContainerSignalRequest as _dagger_exec_ContainerSignalRequest, ContainerSignalRequest__Output as _dagger_exec_ContainerSignalRequest__Output } from './dagger/exec/ContainerSignalRequest';
import type { ContainerStatusRequest as _dagger_exec_ContainerStatusRequest, ContainerStatusRequest__Output as _dagger_exec_ContainerStatusRequest__Output } from './dagger/exec/ContainerStatusRequest';
import type { ContainerStatusResponse as _dagger_exec_ContainerStatusResponse, ContainerStatusResponse__Output as _dagger_exec_ContainerStatusResponse__Output } from './dagger/exec/ContainerStatusResponse';
import type { CopyFromRequest as _dagger_exec_CopyFromRequest, CopyFromRequest__Output as _dagger_exec_CopyFromRequest__Output } from './dagger/exec/CopyFromRequest';
import type { CopyFromResponse as _dagger_exec_CopyFromResponse, CopyFromResponse__Output as _dagger_exec_CopyFromResponse__Output } from './dagger/exec/CopyFromResponse';
import type { CopyToHeader as _dagger_exec_CopyToHeader, CopyToHeader__Output as _dagger_exec_CopyToHeader__Output } from './dagger/exec/CopyToHeader';
import type { CopyToRequest as _dagger_exec_CopyToRequest, CopyToRequest__Output as _dagger_exec_CopyToRequest__Output } from './dagger/exec/CopyToRequest';
import type { CopyToResponse as _dagger_exec_CopyToResponse, CopyToResponse__Output as _dagger_exec_CopyToResponse__Output } from './dagger/exec/CopyToResponse';
import type { ExecClient as _dagger_exec_ExecClient, ExecDefinition as _dagger_exec_ExecDefinition } from './dagger/exec/Exec';
import type { ListSessionsRequest as _dagger_exec_ListSessionsRequest, ListSessionsRequest__Output as _dagger_exec_ListSessionsRequest__Output } from './dagger/exec/ListSessionsRequest';
import type { ListSessionsResponse as _dagger_exec_ListSessionsResponse, ListSessionsResponse__Output as _dagger_exec_ListSessionsResponse__Output } from './dagger/exec/ListSessionsResponse';
import type { Outcome as _dagger_exec_Outcome, Outcome__Output as _dagger_exec_Outcome__Output } from './dagger/exec/Outcome';
import type { OutputChunk as _dagger_exec_OutputChunk, OutputChunk__Output as _dagger_exec_OutputChunk__Output } from './dagger/exec/OutputChunk';
import type { PathStat as _dagger_exec_PathStat, PathStat__Output as _dagger_exec_PathStat__Output } from './dagger/exec/PathStat';
import type { PullProgress as _dagger_exec_PullProgress, PullProgress__Output as _dagger_exec_PullProgress__Output } from './dagger/exec/PullProgress';
import type { Ready as _dagger_exec_Ready, Ready__Output as _dagger_exec_Ready__Output } from './dagger/exec/Ready';
import type { RegistryAuth as _dagger_exec_RegistryAuth, RegistryAuth__Output as _dagger_exec_RegistryAuth__Output } from './dagger/exec/RegistryAuth';
import type { RemoveSessionRequest as _dagger_exec_RemoveSessionRequest, RemoveSessionRequest__Output as _dagger_exec_RemoveSessionRequest__Output } from './dagger/exec/RemoveSessionRequest';
import type { RemoveSessionResponse as _dagger_exec_RemoveSessionResponse, RemoveSessionResponse__Output as _dagger_exec_RemoveSessionResponse__Output } from './dagger/exec/RemoveSessionResponse';
import type { Resize as _dagger_exec_Resize, Resize__Output as _dagger_exec_Resize__Output } from './dagger/exec/Resize';
import type { ResourceUsage as _dagger_exec_ResourceUsage, ResourceUsage__Output as _dagger_exec_ResourceUsage__Output } from './dagger/exec/ResourceUsage';
import type { SessionInfo as _dagger_exec_SessionInfo, SessionInfo__Output as _dagger_exec_SessionInfo__Output } from './dagger/exec/SessionInfo';
import type { SessionRequest as _dagger_exec_SessionRequest, SessionRequest__Output as _dagger_exec_SessionRequest__Output } from './dagger/exec/SessionRequest';
import type { SessionResizesRequest as _dagger_exec_SessionResizesRequest, SessionResizesRequest__Output as _dagger_exec_SessionResizesRequest__Output } from './dagger/exec/SessionResizesRequest';
import type { SessionResizesResponse as _dagger_exec_SessionResizesResponse, SessionResizesResponse__Output as _dagger_exec_SessionResizesResponse__Output } from './dagger/exec/SessionResizesResponse';
import type { SessionResponse as _dagger_exec_SessionResponse, SessionResponse__Output as _dagger_exec_SessionResponse__Output } from './dagger/exec/SessionResponse';
import type { Start as _dagger_exec_Start, Start__Output as _dagger_exec_Start__Output } from './dagger/exec/Start';
import type { TerminalResize as _dagger_exec_TerminalResize, TerminalResize__Output as _dagger_exec_TerminalResize__Output } from './dagger/exec/TerminalResize';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  dagger: {
    exec: {
      AuditCaller: MessageTypeDefinition<_dagger_exec_AuditCaller, _dagger_exec_AuditCaller__Output>
      AuditEvent: MessageTypeDefinition<_dagger_exec_AuditEvent, _dagger_exec_AuditEvent__Output>
      AuditEventsRequest: MessageTypeDefinition<_dagger_exec_AuditEventsRequest, _dagger_exec_AuditEventsRequest__Output>
      AuditEventsResponse: MessageTypeDefinition<_dagger_exec_AuditEventsResponse, _dagger_exec_AuditEventsResponse__Output>
      AuditRequest: MessageTypeDefinition<_dagger_exec_AuditRequest, _dagger_exec_AuditRequest__Output>
      ContainerControlRequest: MessageTypeDefinition<_dagger_exec_ContainerControlRequest, _dagger_exec_ContainerControlRequest__Output>
      ContainerControlResponse: MessageTypeDefinition<_dagger_exec_ContainerControlResponse, _dagger_exec_ContainerControlResponse__Output>
      ContainerLifecycleEvent: MessageTypeDefinition<_dagger_exec_ContainerLifecycleEvent, _dagger_exec_ContainerLifecycleEvent__Output>
      ContainerLifecycleRequest: MessageTypeDefinition<_dagger_exec_ContainerLifecycleRequest, _dagger_exec_ContainerLifecycleRequest__Output>
      ContainerSignalRequest: MessageTypeDefinition<_dagger_exec_ContainerSignalRequest, _dagger_exec_ContainerSignalRequest__Output>
      ContainerStatusRequest: MessageTypeDefinition<_dagger_exec_ContainerStatusRequest, _dagger_exec_ContainerStatusRequest__Output>
      ContainerStatusResponse: MessageTypeDefinition<_dagger_exec_ContainerStatusResponse, _dagger_exec_ContainerStatusResponse__Output>
      CopyFromRequest: MessageTypeDefinition<_dagger_exec_CopyFromRequest, _dagger_exec_CopyFromRequest__Output>
      CopyFromResponse: MessageTypeDefinition<_dagger_exec_CopyFromResponse, _dagger_exec_CopyFromResponse__Output>
      CopyToHeader: MessageTypeDefinition<_dagger_exec_CopyToHeader, _dagger_exec_CopyToHeader__Output>
      CopyToRequest: MessageTypeDefinition<_dagger_exec_CopyToRequest, _dagger_exec_CopyToRequest__Output>
      CopyToResponse: MessageTypeDefinition<_dagger_exec_CopyToResponse, _dagger_exec_CopyToResponse__Output>
      Exec: SubtypeConstructor<typeof grpc.Client, _dagger_exec_ExecClient> & { service: _dagger_exec_ExecDefinition }
      ListSessionsRequest: MessageTypeDefinition<_dagger_exec_ListSessionsRequest, _dagger_exec_ListSessionsRequest__Output>
      ListSessionsResponse: MessageTypeDefinition<_dagger_exec_ListSessionsResponse, _dagger_exec_ListSessionsResponse__Output>
      Outcome: MessageTypeDefinition<_dagger_exec_Outcome, _dagger_exec_Outcome__Output>
      OutputChunk: MessageTypeDefinition<_dagger_exec_OutputChunk, _dagger_exec_OutputChunk__Output>
      PathStat: MessageTypeDefinition<_dagger_exec_PathStat, _dagger_exec_PathStat__Output>
      PullProgress: MessageTypeDefinition<_dagger_exec_PullProgress, _dagger_exec_PullProgress__Output>
      Ready: MessageTypeDefinition<_dagger_exec_Ready, _dagger_exec_Ready__Output>
      RegistryAuth: MessageTypeDefinition<_dagger_exec_RegistryAuth, _dagger_exec_RegistryAuth__Output>
      RemoveSessionRequest: MessageTypeDefinition<_dagger_exec_RemoveSessionRequest, _dagger_exec_RemoveSessionRequest__Output>
      RemoveSessionResponse: MessageTypeDefinition<_dagger_exec_RemoveSessionResponse, _dagger_exec_RemoveSessionResponse__Output>
      Resize: MessageTypeDefinition<_dagger_exec_Resize, _dagger_exec_Resize__Output>
      ResourceUsage: MessageTypeDefinition<_dagger_exec_ResourceUsage, _dagger_exec_ResourceUsage__Output>
      SessionInfo: MessageTypeDefinition<_dagger_exec_SessionInfo, _dagger_exec_SessionInfo__Output>
      SessionRequest: MessageTypeDefinition<_dagger_exec_SessionRequest, _dagger_exec_SessionRequest__Output>
      SessionResizesRequest: MessageTypeDefinition<_dagger_exec_SessionResizesRequest, _dagger_exec_SessionResizesRequest__Output>
      SessionResizesResponse: MessageTypeDefinition<_dagger_exec_SessionResizesResponse, _dagger_exec_SessionResizesResponse__Output>
      SessionResponse: MessageTypeDefinition<_dagger_exec_SessionResponse, _dagger_exec_SessionResponse__Output>
      Start: MessageTypeDefinition<_dagger_exec_Start, _dagger_exec_Start__Output>
      TerminalResize: MessageTypeDefinition<_dagger_exec_TerminalResize, _dagger_exec_TerminalResize__Output>
    }
  }
}

