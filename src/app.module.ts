import { Module, type DynamicModule } from '@nestjs/common';
import { CommonModule } from './common/common.module';
import type { ExecConfig } from './common/config/exec-config';
import type { Logger } from './common/logger';
import { ExecModule } from './exec/exec.module';
import { MetricsModule } from './metrics';

@Module({})
export class AppModule {
  static forRoot(config: ExecConfig, logger: Logger): DynamicModule {
    return { module: AppModule, imports: [CommonModule.forRoot(config, logger), MetricsModule, ExecModule] };
  }
}
