import { Injectable, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ExecConfig } from '../common/config/exec-config';
import type { Logger } from '../common/logger';
import { EXEC_CONFIG, ROOT_LOGGER } from '../common/tokens';
import { AuditTrail, auditTrailFor } from './audit-trail';

/** Opens the trail before the server listens (its first event: service_start) and closes it after the server has closed. */
@Injectable()
export class AuditTrailLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(private readonly trail: AuditTrail) {}

  onModuleInit(): void {
    this.trail.open();
  }

  onApplicationShutdown(): void {
    this.trail.close();
  }
}

/** The audit trail (docs/AUDIT.md): the same AuditTrail the gRPC interceptor records through (auditTrailFor). */
@Module({
  providers: [
    {
      provide: AuditTrail,
      useFactory: (config: ExecConfig, root: Logger) => auditTrailFor(config, root),
      inject: [EXEC_CONFIG, ROOT_LOGGER],
    },
    AuditTrailLifecycle,
  ],
  exports: [AuditTrail],
})
export class AuditModule {}
