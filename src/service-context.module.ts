import { Global, Module, type DynamicModule } from '@nestjs/common';
import { AuditTrail } from './audit';
import { HealthState } from './common/health-state';
import { EXEC_CONFIG, EXEC_METRICS, ROOT_LOGGER } from './common/tokens';
import { TailBudget } from './exec/output';
import type { ServiceContext } from './service-context';

/** The parts of the service context, available everywhere: config, root logger, health, metrics (null when off), audit trail, tail budget. */
@Global()
@Module({})
export class ServiceContextModule {
  static forRoot(context: ServiceContext): DynamicModule {
    return {
      module: ServiceContextModule,
      providers: [
        { provide: EXEC_CONFIG, useValue: context.config },
        { provide: ROOT_LOGGER, useValue: context.logger },
        { provide: HealthState, useValue: context.health },
        { provide: EXEC_METRICS, useValue: context.metrics ?? null },
        { provide: AuditTrail, useValue: context.audit },
        { provide: TailBudget, useValue: context.tailBudget },
      ],
      exports: [EXEC_CONFIG, ROOT_LOGGER, HealthState, EXEC_METRICS, AuditTrail, TailBudget],
    };
  }
}
