// Original file: proto/exec.proto

import type { AuditEvent as _dagger_exec_AuditEvent, AuditEvent__Output as _dagger_exec_AuditEvent__Output } from '../../dagger/exec/AuditEvent';

/**
 * exec-stream: one message of an AuditEvents stream.
 */
export interface AuditEventsResponse {
  'event'?: (_dagger_exec_AuditEvent | null);
  /**
   * Every held event that matches has been sent (with `follow`, live ones come next). Sent once.
   */
  'caught_up'?: (boolean);
  /**
   * A replica whose trail could not be read (down or unreachable): its events are missing until a
   * `replica_reachable` names it (follow mode asks again every second).
   */
  'replica_unreachable'?: (string);
  'replica_reachable'?: (string);
  'msg'?: "event"|"caught_up"|"replica_unreachable"|"replica_reachable";
}

/**
 * exec-stream: one message of an AuditEvents stream.
 */
export interface AuditEventsResponse__Output {
  'event'?: (_dagger_exec_AuditEvent__Output);
  /**
   * Every held event that matches has been sent (with `follow`, live ones come next). Sent once.
   */
  'caught_up'?: (boolean);
  /**
   * A replica whose trail could not be read (down or unreachable): its events are missing until a
   * `replica_reachable` names it (follow mode asks again every second).
   */
  'replica_unreachable'?: (string);
  'replica_reachable'?: (string);
  'msg'?: "event"|"caught_up"|"replica_unreachable"|"replica_reachable";
}
