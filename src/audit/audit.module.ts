import { Injectable, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { AuditTrail } from './audit-trail';

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

/** Opens and closes the audit trail (docs/AUDIT.md) that the service context holds and the gRPC interceptor records through. */
@Module({ providers: [AuditTrailLifecycle] })
export class AuditModule {}
