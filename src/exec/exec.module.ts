import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { GrpcExceptionFilter } from '../common/grpc-exception.filter';
import { ExecutorModule } from '../executor/executor.module';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { ExecController } from './exec.controller';
import { SessionCallHandler } from './session-call';
import { SessionManager } from './session-manager';
import { SessionDrain } from './session-drain';
import { DataDirHealth } from './data-dir-health';
import { SessionRecovery } from './session-recovery';
import { ContainerReconciler } from './container-reconciler';
import { ContainerControlService } from './container-control.service';
import { ContainerStatusService } from './container-status.service';
import { LifecycleCallHandler } from './lifecycle-call';
import { ResourceSampler } from './resource-sampler';

@Module({
  imports: [ExecutorModule, LifecycleModule],
  controllers: [ExecController],
  providers: [
    SessionManager,
    SessionCallHandler,
    SessionRecovery,
    ContainerReconciler,
    SessionDrain,
    // Health NOT_SERVING while EXEC_DATA_DIR cannot be written (docs/DURABILITY.md).
    DataDirHealth,
    // Status, control and lifecycle RPCs (docs/LIFECYCLE.md).
    LifecycleCallHandler,
    ContainerStatusService,
    ContainerControlService,
    ResourceSampler,
    // Every @GrpcMethod error reaches the client with its real code, never UNKNOWN.
    { provide: APP_FILTER, useClass: GrpcExceptionFilter },
  ],
  exports: [SessionManager],
})
export class ExecModule {}
