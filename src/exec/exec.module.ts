import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { RETAINED_CONTAINERS, SESSION_AUDIT } from '../common/tokens';
import { GrpcExceptionFilter } from './grpc';
import { ExecutorModule } from '../executor/executor.module';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { AuditModule, AuditTrail } from '../audit';
import { ExecController } from './grpc';
import { SessionCallHandler } from './grpc';
import { SessionManager, type SessionAuditTrail } from './session';
import { SessionDrain } from './session';
import { DataDirHealth } from './output';
import { TeeWriterFactory } from './output';
import { SessionRecovery } from './session';
import { ContainerReconciler } from './session';
import { LifecycleCallHandler } from './grpc';
import { ResourceSampler } from './container';
import { ContainerFilesService, CopiesInFlight, ImagePullService } from './container';
import { CopyFilesHandler } from './grpc';
import { ListSessionsHandler } from './grpc';
import { AuditEventsHandler, ContainerControlHandler, ContainerStatusHandler, SessionResizesHandler } from './grpc';
import { CallForwarder, MergedAudit, MergedListing, OwnerRouter, PeerChannels, PeerDirectory, PeerLifecycle, RequestIdHome, RoutedCalls } from './cluster';

@Module({
  imports: [ExecutorModule, LifecycleModule, AuditModule],
  controllers: [ExecController],
  providers: [
    SessionManager,
    { provide: RETAINED_CONTAINERS, useExisting: SessionManager },
    // The trail as the sessions' port (typed here: the composition root is where both are known).
    { provide: SESSION_AUDIT, useFactory: (trail: AuditTrail): SessionAuditTrail => trail, inject: [AuditTrail] },
    SessionCallHandler,
    SessionRecovery,
    ContainerReconciler,
    SessionDrain,
    TeeWriterFactory,
    // Health NOT_SERVING while EXEC_DATA_DIR cannot be written (docs/DURABILITY.md).
    DataDirHealth,
    // Status, control and lifecycle RPCs (docs/LIFECYCLE.md).
    LifecycleCallHandler,
    ContainerStatusHandler,
    ContainerControlHandler,
    ResourceSampler,
    // Image pulls before a run, and CopyTo / CopyFrom (docs/PROTOCOL.md).
    ImagePullService,
    ContainerFilesService,
    CopiesInFlight,
    CopyFilesHandler,
    // ListSessions (docs/PROTOCOL.md).
    ListSessionsHandler,
    // The audit trail and a TTY session's sizes for its recording (docs/AUDIT.md).
    AuditEventsHandler,
    SessionResizesHandler,
    // Replicas: peers from EXEC_PEERS / EXEC_PEERS_DNS, calls forwarded to the owner (docs/SCALING.md).
    PeerDirectory,
    PeerChannels,
    OwnerRouter,
    RequestIdHome,
    CallForwarder,
    RoutedCalls,
    MergedListing,
    MergedAudit,
    PeerLifecycle,
    // Every @GrpcMethod error reaches the client with its real code, never UNKNOWN.
    { provide: APP_FILTER, useClass: GrpcExceptionFilter },
  ],
  exports: [SessionManager],
})
export class ExecModule {}
