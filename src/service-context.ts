import { AuditTrail } from './audit';
import type { ExecConfig } from './common/config/exec-config';
import { HealthState } from './common/health-state';
import type { Logger } from './common/logger';
import { tailBudgetOf, type TailBudget } from './exec/output';
import { ExecMetrics } from './metrics';

/**
 * What one service is built around, made once where it is assembled: the gRPC options (built outside
 * Nest's DI) and the Nest modules (ServiceContextModule) are given this same object.
 */
export interface ServiceContext {
  readonly config: ExecConfig;
  readonly logger: Logger;
  readonly health: HealthState;
  /** Undefined when EXEC_METRICS_LISTEN is unset (metrics off: nothing is counted). */
  readonly metrics?: ExecMetrics;
  readonly audit: AuditTrail;
  /** The in-memory tails' budget, shared by every session (EXEC_TAIL_BUDGET_BYTES). */
  readonly tailBudget: TailBudget;
}

/** The context of a service on `config`, logging through `logger`. */
export function serviceContext(config: ExecConfig, logger: Logger): ServiceContext {
  const health = new HealthState();
  return {
    config,
    logger,
    health,
    metrics: config.EXEC_METRICS_LISTEN ? new ExecMetrics() : undefined,
    audit: new AuditTrail(config, logger, health),
    tailBudget: tailBudgetOf(config),
  };
}
