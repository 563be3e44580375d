import { Module } from '@nestjs/common';
import { ExecutorModule } from '../executor/executor.module';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { ExecController } from './exec.controller';
import { SessionCallHandler } from './session-call';
import { SessionManager } from './session-manager';

@Module({
  imports: [ExecutorModule, LifecycleModule],
  controllers: [ExecController],
  providers: [SessionManager, SessionCallHandler],
  exports: [SessionManager],
})
export class ExecModule {}
