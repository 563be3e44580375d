import { Module } from '@nestjs/common';
import { CONTAINER_CONTROL, CONTAINER_EVENTS, CONTAINER_RECOVERY, CONTAINER_RUNTIME, LIFECYCLE_PUBLISHER } from '../../common/tokens';
import { LifecycleBus } from '../../lifecycle/lifecycle-bus';
import { LifecycleModule } from '../../lifecycle/lifecycle.module';
import { dockerClientProvider } from './docker-client';
import { DockerControl } from './docker-control';
import { DockerEventsSource } from './docker-events';
import { DockerRecovery } from './docker-recovery';
import { DockerRuntime } from './docker-runtime';

/** The Docker backend: binds the executor's ports to the Docker classes; its dockerode client stays inside. */
@Module({
  imports: [LifecycleModule],
  providers: [
    dockerClientProvider,
    { provide: LIFECYCLE_PUBLISHER, useExisting: LifecycleBus },
    { provide: CONTAINER_RUNTIME, useClass: DockerRuntime },
    { provide: CONTAINER_CONTROL, useClass: DockerControl },
    { provide: CONTAINER_RECOVERY, useClass: DockerRecovery },
    { provide: CONTAINER_EVENTS, useClass: DockerEventsSource },
  ],
  exports: [CONTAINER_RUNTIME, CONTAINER_CONTROL, CONTAINER_RECOVERY, CONTAINER_EVENTS],
})
export class DockerExecutorModule {}
