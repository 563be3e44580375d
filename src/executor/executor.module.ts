import { Module } from '@nestjs/common';
import { CONTAINER_CONTROL, CONTAINER_RUNTIME } from '../common/tokens';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { DockerControl } from './docker-control';
import { DockerEventsSource } from './docker-events';
import { dockerClientProvider } from './docker-client';
import { DockerRuntime } from './docker-runtime';
import { TeeWriterFactory } from './tee-writer';

@Module({
  imports: [LifecycleModule],
  providers: [
    dockerClientProvider,
    { provide: CONTAINER_RUNTIME, useClass: DockerRuntime },
    { provide: CONTAINER_CONTROL, useClass: DockerControl },
    DockerEventsSource,
    TeeWriterFactory,
  ],
  exports: [CONTAINER_RUNTIME, CONTAINER_CONTROL, DockerEventsSource, TeeWriterFactory],
})
export class ExecutorModule {}
