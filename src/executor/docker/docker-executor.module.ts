import { Module } from '@nestjs/common';
import {
  CONTAINER_CONTROL,
  CONTAINER_EVENTS,
  CONTAINER_FILES,
  CONTAINER_RECOVERY,
  CONTAINER_RUNTIME,
  IMAGE_PULLER,
  LIFECYCLE_PUBLISHER,
} from '../../common/tokens';
import { LifecycleBus } from '../../lifecycle/lifecycle-bus';
import { LifecycleModule } from '../../lifecycle/lifecycle.module';
import { dockerClientProvider } from './docker-client';
import { DockerArchive } from './docker-archive';
import { DockerControl } from './docker-control';
import { DockerEventsSource } from './docker-events';
import { DockerImagePuller } from './docker-image-pull';
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
    { provide: IMAGE_PULLER, useClass: DockerImagePuller },
    { provide: CONTAINER_FILES, useClass: DockerArchive },
  ],
  exports: [CONTAINER_RUNTIME, CONTAINER_CONTROL, CONTAINER_RECOVERY, CONTAINER_EVENTS, IMAGE_PULLER, CONTAINER_FILES],
})
export class DockerExecutorModule {}
