import type { StoredAuditEvent } from './audit-event';

/** What AuditEvents asks for: all given must match. */
export interface AuditFilter {
  sinceMs?: number;
  untilMs?: number;
  /** A token's name or a certificate subject. */
  caller?: string;
  sessionId?: string;
  /** A full container id or a prefix. */
  containerId?: string;
  actions?: ReadonlySet<string>;
}

export function matchesAudit(e: StoredAuditEvent, f: AuditFilter): boolean {
  if (f.sinceMs !== undefined || f.untilMs !== undefined) {
    const t = Date.parse(e.time);
    if (f.sinceMs !== undefined && t < f.sinceMs) return false;
    if (f.untilMs !== undefined && t >= f.untilMs) return false;
  }
  if (f.caller !== undefined && e.caller?.token !== f.caller && e.caller?.subject !== f.caller) return false;
  if (f.sessionId !== undefined && e.session_id !== f.sessionId) return false;
  if (f.containerId !== undefined && !e.container_id?.startsWith(f.containerId)) return false;
  if (f.actions?.size && !f.actions.has(e.action)) return false;
  return true;
}
