export type ServingStatus = 'SERVING' | 'NOT_SERVING';

/**
 * The problems that turn health NOT_SERVING, by who sets them: the data directory cannot be written
 * (DataDirHealth), Docker does not answer (DockerEventsSource: from a lost events connection, or before
 * the first one, until it connects), start-up recovery is still loading and re-adopting sessions
 * (SessionRecovery), a drain has begun (SessionDrain; it is never cleared), and the audit trail cannot be
 * written (AuditTrail: full disk, or its own size limit with nothing past its retention).
 */
export const HEALTH_PROBLEM = {
  dataDir: 'data-dir',
  docker: 'docker-unreachable',
  recovering: 'recovering',
  draining: 'draining',
  audit: 'audit-trail',
} as const;

/** What health is reported through: grpc-health-check's HealthImplementation. */
export interface HealthTarget {
  setStatus(service: string, status: ServingStatus): void;
}

/**
 * The service's health as gRPC health (grpc.health.v1.Health) reports it: NOT_SERVING for every bound
 * service name while any named problem stands (e.g. the data directory cannot be written), SERVING
 * when none does. Parts of the service set and clear their problems; the gRPC edge binds the target.
 */
export class HealthState {
  private readonly problems = new Map<string, string>();
  private target?: HealthTarget;
  private services: string[] = [];

  /** Reports through `target` for `services` ('' is the overall status), now and on every change. */
  bind(target: HealthTarget, services: string[]): void {
    this.target = target;
    this.services = services;
    this.publish();
  }

  /** Records `problem` with a reason, or clears it (reason undefined). Returns whether health changed. */
  set(problem: string, reason?: string): boolean {
    const was = this.serving;
    if (reason === undefined) this.problems.delete(problem);
    else this.problems.set(problem, reason);
    if (was !== this.serving) this.publish();
    return was !== this.serving;
  }

  get serving(): boolean {
    return this.problems.size === 0;
  }

  /** Whether `problem` stands. */
  has(problem: string): boolean {
    return this.problems.has(problem);
  }

  /** Why it is not serving (empty when serving). */
  get reasons(): string[] {
    return [...this.problems.values()];
  }

  private publish(): void {
    for (const s of this.services) this.target?.setStatus(s, this.serving ? 'SERVING' : 'NOT_SERVING');
  }
}
