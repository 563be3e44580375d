import { Module } from '@nestjs/common';
import { CONTAINER_CONTROL, CONTAINER_RUNTIME } from '../common/tokens';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { DockerControl } from './docker';
import { DockerEventsSource } from './docker';
import { dockerClientProvider } from './docker';
import { DockerRuntime } from './docker';

@Module({
  imports: [LifecycleModule],
  providers: [
    dockerClientProvider,
    { provide: CONTAINER_RUNTIME, useClass: DockerRuntime },
    { provide: CONTAINER_CONTROL, useClass: DockerControl },
    DockerEventsSource,
  ],
  exports: [CONTAINER_RUNTIME, CONTAINER_CONTROL, DockerEventsSource],
})
export class ExecutorModule {}
