import { Module } from '@nestjs/common';
import { CONTAINER_RUNTIME } from '../common/tokens';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { DockerRuntime } from './docker-runtime';
import { TeeWriterFactory } from './tee-writer';

@Module({
  imports: [LifecycleModule],
  providers: [{ provide: CONTAINER_RUNTIME, useClass: DockerRuntime }, TeeWriterFactory],
  exports: [CONTAINER_RUNTIME, TeeWriterFactory],
})
export class ExecutorModule {}
