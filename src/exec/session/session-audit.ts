import type { Session } from './session';
import { toWireOutcome } from './client-cursor';
import type { KillReason } from './session-outcome';

/** What the sessions record of themselves: a session's end (its Outcome) and a signal a timeout sent. */
export interface SessionAuditEvent {
  action: 'session_end' | 'timeout_kill';
  result?: 'ok' | 'error';
  session_id: string;
  container_id?: string;
  exec_id?: string;
  /** The Outcome as it was sent (client-cursor.ts makes it). */
  outcome?: ReturnType<typeof toWireOutcome>;
  request?: { signal: string; timeout: string };
}

/**
 * Where they record it: the audit trail (src/audit/ AuditTrail, bound to SESSION_AUDIT), a port so that
 * the sessions know no more of it than this.
 */
export interface SessionAuditTrail {
  readonly enabled: boolean;
  record(event: SessionAuditEvent): unknown;
}

const SIGNAL_NAMES: Record<number, string> = { 9: 'SIGKILL', 15: 'SIGTERM' };

/** Records a session's end (its Outcome) in the trail when it finishes; a failure is logged, the session ends all the same. */
export function auditSessionEnd(trail: SessionAuditTrail | undefined, session: Session): void {
  if (!trail?.enabled) return;
  session.onFinished = (s) => {
    const record = s.outcome?.record;
    trail.record({
      action: 'session_end',
      result: record?.reason === 'lost' ? 'error' : 'ok',
      session_id: s.id,
      container_id: s.containerId,
      exec_id: s.execId,
      outcome: record ? toWireOutcome(record) : undefined,
    });
  };
}

/** Records a signal a timeout made the service send (before it is sent); a failure is logged, the signal is sent all the same. */
export function auditTimeoutKill(trail: SessionAuditTrail | undefined, session: Session, reason: KillReason, signal: number): void {
  if (!trail?.enabled) return;
  try {
    trail.record({
      action: 'timeout_kill',
      session_id: session.id,
      container_id: session.containerId,
      exec_id: session.execId,
      request: { signal: SIGNAL_NAMES[signal] ?? String(signal), timeout: reason },
    });
  } catch (err) {
    session.logger.error({ err: (err as Error).message, signal }, 'a timeout kill could not be recorded in the audit trail');
  }
}
