import { Module, type DynamicModule } from '@nestjs/common';
import { ExecModule } from './exec/exec.module';
import { MetricsModule } from './metrics';
import type { ServiceContext } from './service-context';
import { ServiceContextModule } from './service-context.module';

@Module({})
export class AppModule {
  static forRoot(context: ServiceContext): DynamicModule {
    return { module: AppModule, imports: [ServiceContextModule.forRoot(context), MetricsModule, ExecModule] };
  }
}
