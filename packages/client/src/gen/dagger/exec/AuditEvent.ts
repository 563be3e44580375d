// Original file: proto/exec.proto

import type { AuditCaller as _dagger_exec_AuditCaller, AuditCaller__Output as _dagger_exec_AuditCaller__Output } from '../../dagger/exec/AuditCaller';
import type { AuditRequest as _dagger_exec_AuditRequest, AuditRequest__Output as _dagger_exec_AuditRequest__Output } from '../../dagger/exec/AuditRequest';
import type { Outcome as _dagger_exec_Outcome, Outcome__Output as _dagger_exec_Outcome__Output } from '../../dagger/exec/Outcome';
import type { Long } from '@grpc/proto-loader';

/**
 * exec-stream: one audit event (docs/AUDIT.md has every field and action). Each replica's events form
 * a hash chain: `hash` is the sha256 of the event's stored line without it, which holds `prev_hash`.
 */
export interface AuditEvent {
  /**
   * "<replica>:<seq>": what AuditEventsRequest.resume_after takes.
   */
  'id'?: (string);
  /**
   * The replica (EXEC_REPLICA_ID) whose trail holds it.
   */
  'replica'?: (string);
  /**
   * Position in that replica's chain: 1, 2, 3 … with no gaps, across restarts.
   */
  'seq'?: (number | string | Long);
  /**
   * Unix ns (ms precision)
   */
  'time'?: (number | string | Long);
  /**
   * run, exec, attach, stdin, resize, signal, pause, resume, timeout_kill, session_end, copy_to,
   * copy_from, list_sessions, container_status, lifecycle, audit_events, session_resizes, session
   * (a Session call refused before its Start was read), service_start, service_stop.
   */
  'action'?: (string);
  /**
   * "ok", or the gRPC status code name the call was refused (or failed) with.
   */
  'result'?: (string);
  /**
   * The status message when `result` is not ok.
   */
  'reason'?: (string);
  /**
   * Who made the call; unset for what the service did by itself (timeout_kill, session_end, service_*).
   */
  'caller'?: (_dagger_exec_AuditCaller | null);
  /**
   * The call's x-request-id (or the one the service made for it).
   */
  'request_id'?: (string);
  'session_id'?: (string);
  'container_id'?: (string);
  'exec_id'?: (string);
  /**
   * What was asked, as far as the action has it.
   */
  'request'?: (_dagger_exec_AuditRequest | null);
  /**
   * session_end: how the process ended.
   */
  'outcome'?: (_dagger_exec_Outcome | null);
  /**
   * The hash of the event before it in this replica's chain (64 zeros for the first).
   */
  'prev_hash'?: (string);
  'hash'?: (string);
}

/**
 * exec-stream: one audit event (docs/AUDIT.md has every field and action). Each replica's events form
 * a hash chain: `hash` is the sha256 of the event's stored line without it, which holds `prev_hash`.
 */
export interface AuditEvent__Output {
  /**
   * "<replica>:<seq>": what AuditEventsRequest.resume_after takes.
   */
  'id'?: (string);
  /**
   * The replica (EXEC_REPLICA_ID) whose trail holds it.
   */
  'replica'?: (string);
  /**
   * Position in that replica's chain: 1, 2, 3 … with no gaps, across restarts.
   */
  'seq'?: (string);
  /**
   * Unix ns (ms precision)
   */
  'time'?: (string);
  /**
   * run, exec, attach, stdin, resize, signal, pause, resume, timeout_kill, session_end, copy_to,
   * copy_from, list_sessions, container_status, lifecycle, audit_events, session_resizes, session
   * (a Session call refused before its Start was read), service_start, service_stop.
   */
  'action'?: (string);
  /**
   * "ok", or the gRPC status code name the call was refused (or failed) with.
   */
  'result'?: (string);
  /**
   * The status message when `result` is not ok.
   */
  'reason'?: (string);
  /**
   * Who made the call; unset for what the service did by itself (timeout_kill, session_end, service_*).
   */
  'caller'?: (_dagger_exec_AuditCaller__Output);
  /**
   * The call's x-request-id (or the one the service made for it).
   */
  'request_id'?: (string);
  'session_id'?: (string);
  'container_id'?: (string);
  'exec_id'?: (string);
  /**
   * What was asked, as far as the action has it.
   */
  'request'?: (_dagger_exec_AuditRequest__Output);
  /**
   * session_end: how the process ended.
   */
  'outcome'?: (_dagger_exec_Outcome__Output);
  /**
   * The hash of the event before it in this replica's chain (64 zeros for the first).
   */
  'prev_hash'?: (string);
  'hash'?: (string);
}
