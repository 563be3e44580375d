import { Module } from '@nestjs/common';
import { DockerExecutorModule } from './docker';

/**
 * The one place that chooses the executor's backend: the ports CONTAINER_RUNTIME, CONTAINER_CONTROL,
 * CONTAINER_RECOVERY and CONTAINER_EVENTS (src/executor/) come from the Docker backend.
 */
@Module({
  imports: [DockerExecutorModule],
  exports: [DockerExecutorModule],
})
export class ExecutorModule {}
