import type { AuditCaller, AuditRequest, Outcome } from '@exec-stream/client/wire';

/** What an audit event records (docs/AUDIT.md): stable names, the same in the file, on the wire and on stdout. */
export const AUDIT_ACTIONS = [
  'run',
  'exec',
  'attach',
  'session',
  'stdin',
  'resize',
  'signal',
  'pause',
  'resume',
  'timeout_kill',
  'session_end',
  'copy_to',
  'copy_from',
  'list_sessions',
  'container_status',
  'lifecycle',
  'audit_events',
  'session_resizes',
  'service_start',
  'service_stop',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** The caller of an audited call, with the stored (and wire) field names. */
export type AuditCallerRecord = AuditCaller;

/** What a call asked for, with the stored (and wire) field names; unset fields are left out of the line. */
export type AuditRequestRecord = AuditRequest;

/** One event as the recorder gives it: the trail adds seq, time, replica and the chain. */
export interface AuditEventInput {
  action: AuditAction;
  /** `ok` (the default), or the status code name the call was refused (or failed) with. */
  result?: string;
  reason?: string;
  /** Unset for what the service did by itself. */
  caller?: AuditCallerRecord;
  request_id?: string;
  session_id?: string;
  container_id?: string;
  exec_id?: string;
  request?: AuditRequestRecord;
  /** session_end: the Outcome as the wire gives it. */
  outcome?: Outcome;
}

/** One event as stored: one JSON line in a segment, its fields in this order, `hash` last. */
export interface StoredAuditEvent extends AuditEventInput {
  seq: number;
  /** ISO 8601, UTC, ms. */
  time: string;
  replica: string;
  result: string;
  prev_hash: string;
  hash: string;
}
