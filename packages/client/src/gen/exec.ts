import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ContainerControlRequest as _dagger_exec_ContainerControlRequest, ContainerControlRequest__Output as _dagger_exec_ContainerControlRequest__Output } from './dagger/exec/ContainerControlRequest';
import type { ContainerControlResponse as _dagger_exec_ContainerControlResponse, ContainerControlResponse__Output as _dagger_exec_ContainerControlResponse__Output } from './dagger/exec/ContainerControlResponse';
import type { ContainerLifecycleEvent as _dagger_exec_ContainerLifecycleEvent, ContainerLifecycleEvent__Output as _dagger_exec_ContainerLifecycleEvent__Output } from './dagger/exec/ContainerLifecycleEvent';
import type { ContainerLifecycleRequest as _dagger_exec_ContainerLifecycleRequest, ContainerLifecycleRequest__Output as _dagger_exec_ContainerLifecycleRequest__Output } from './dagger/exec/ContainerLifecycleRequest';
import type { ContainerSignalRequest as _dagger_exec_ContainerSignalRequest, ContainerSignalRequest__Output as _dagger_exec_ContainerSignalRequest__Output } from './dagger/exec/ContainerSignalRequest';
import type { ContainerStatusRequest as _dagger_exec_ContainerStatusRequest, ContainerStatusRequest__Output as _dagger_exec_ContainerStatusRequest__Output } from './dagger/exec/ContainerStatusRequest';
import type { ContainerStatusResponse as _dagger_exec_ContainerStatusResponse, ContainerStatusResponse__Output as _dagger_exec_ContainerStatusResponse__Output } from './dagger/exec/ContainerStatusResponse';
import type { ExecClient as _dagger_exec_ExecClient, ExecDefinition as _dagger_exec_ExecDefinition } from './dagger/exec/Exec';
import type { OutputChunk as _dagger_exec_OutputChunk, OutputChunk__Output as _dagger_exec_OutputChunk__Output } from './dagger/exec/OutputChunk';
import type { Ready as _dagger_exec_Ready, Ready__Output as _dagger_exec_Ready__Output } from './dagger/exec/Ready';
import type { Resize as _dagger_exec_Resize, Resize__Output as _dagger_exec_Resize__Output } from './dagger/exec/Resize';
import type { ResourceUsage as _dagger_exec_ResourceUsage, ResourceUsage__Output as _dagger_exec_ResourceUsage__Output } from './dagger/exec/ResourceUsage';
import type { SessionRequest as _dagger_exec_SessionRequest, SessionRequest__Output as _dagger_exec_SessionRequest__Output } from './dagger/exec/SessionRequest';
import type { SessionResponse as _dagger_exec_SessionResponse, SessionResponse__Output as _dagger_exec_SessionResponse__Output } from './dagger/exec/SessionResponse';
import type { Start as _dagger_exec_Start, Start__Output as _dagger_exec_Start__Output } from './dagger/exec/Start';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  dagger: {
    exec: {
      ContainerControlRequest: MessageTypeDefinition<_dagger_exec_ContainerControlRequest, _dagger_exec_ContainerControlRequest__Output>
      ContainerControlResponse: MessageTypeDefinition<_dagger_exec_ContainerControlResponse, _dagger_exec_ContainerControlResponse__Output>
      ContainerLifecycleEvent: MessageTypeDefinition<_dagger_exec_ContainerLifecycleEvent, _dagger_exec_ContainerLifecycleEvent__Output>
      ContainerLifecycleRequest: MessageTypeDefinition<_dagger_exec_ContainerLifecycleRequest, _dagger_exec_ContainerLifecycleRequest__Output>
      ContainerSignalRequest: MessageTypeDefinition<_dagger_exec_ContainerSignalRequest, _dagger_exec_ContainerSignalRequest__Output>
      ContainerStatusRequest: MessageTypeDefinition<_dagger_exec_ContainerStatusRequest, _dagger_exec_ContainerStatusRequest__Output>
      ContainerStatusResponse: MessageTypeDefinition<_dagger_exec_ContainerStatusResponse, _dagger_exec_ContainerStatusResponse__Output>
      Exec: SubtypeConstructor<typeof grpc.Client, _dagger_exec_ExecClient> & { service: _dagger_exec_ExecDefinition }
      OutputChunk: MessageTypeDefinition<_dagger_exec_OutputChunk, _dagger_exec_OutputChunk__Output>
      Ready: MessageTypeDefinition<_dagger_exec_Ready, _dagger_exec_Ready__Output>
      Resize: MessageTypeDefinition<_dagger_exec_Resize, _dagger_exec_Resize__Output>
      ResourceUsage: MessageTypeDefinition<_dagger_exec_ResourceUsage, _dagger_exec_ResourceUsage__Output>
      SessionRequest: MessageTypeDefinition<_dagger_exec_SessionRequest, _dagger_exec_SessionRequest__Output>
      SessionResponse: MessageTypeDefinition<_dagger_exec_SessionResponse, _dagger_exec_SessionResponse__Output>
      Start: MessageTypeDefinition<_dagger_exec_Start, _dagger_exec_Start__Output>
    }
  }
}

