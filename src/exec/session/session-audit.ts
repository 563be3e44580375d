import type { AuditTrail } from '../../audit';
import type { Session } from './session';
import { toWireOutcome, type KillReason } from './session-outcome';

const SIGNAL_NAMES: Record<number, string> = { 9: 'SIGKILL', 15: 'SIGTERM' };

/** Records a session's end (its Outcome) in the trail when it finishes; a failure is logged, the session ends all the same. */
export function auditSessionEnd(trail: AuditTrail | undefined, session: Session): void {
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
export function auditTimeoutKill(trail: AuditTrail | undefined, session: Session, reason: KillReason, signal: number): void {
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
