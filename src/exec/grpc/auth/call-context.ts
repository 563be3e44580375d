import type { Metadata } from '@grpc/grpc-js';
import { ExecError } from '../../../common/errors';
import type { Logger } from '../../../common/logger';
import type { AuditAction, AuditCallerRecord, AuditEventInput } from '../../../audit';
import { FULL_ACCESS, type Principal, type Scope } from './token-store';

/** The ids and request fields of an audit event, as far as they are known. */
export type AuditDetails = Pick<AuditEventInput, 'session_id' | 'container_id' | 'exec_id' | 'request'>;

/**
 * What the audit trail is told of one call, gathered as the call goes: its first request message (a
 * unary request, a Session's Start, a CopyTo header), what its handler learnt (full ids, its session),
 * and whether its event is written. The interceptor writes the event of a call its handler did not
 * (at the answer's headers, or at a refusal); a call handed to its owner is the owner's to record.
 */
export interface CallAudit {
  first?: unknown;
  /** Set once the call's event is written: nothing more is recorded at its end. */
  recorded: boolean;
  /** The action, when the handler knows a more precise one than the method's (run, exec, attach). */
  action?: AuditAction;
  details: AuditDetails;
}

/** One call as the auth interceptor saw it: its id, method, caller and the logger all its lines go through. */
export interface CallContext {
  callId: string;
  /** The RPC name (e.g. `Session`). */
  method: string;
  principal: Principal;
  /** The client's `x-request-id`, or the call id when it sent none. */
  requestId?: string;
  /**
   * A child logger carrying callId, method, requestId, peer and token (the principal's name); the
   * call's end line is written through it too, so what is bound here (aboutSession) is on that line.
   */
  log: Logger;
  /** The caller as the audit trail records it: token name, certificate subject, address, forwarding replica. */
  caller?: AuditCallerRecord;
  /** What the audit trail is told of this call (call-audit.ts). */
  audit?: CallAudit;
}

/** From now on, every line of the call (its end line included) carries the session it is about. */
export function aboutSession(context: CallContext, sessionId: string): void {
  if (context.log.bindings().sessionId !== sessionId) context.log = context.log.child({ sessionId });
}

// Keyed by the request Metadata object: grpc-js hands the same object from the interceptor to the handler
// (unary: Nest's second argument; streams: call.metadata), and it dies with the call.
const contexts = new WeakMap<Metadata, CallContext>();

export function bindCallContext(metadata: Metadata, context: CallContext): void {
  contexts.set(metadata, context);
}

/** The context the interceptor bound to this call's metadata, if any. */
export function boundCallContext(metadata: Metadata | undefined): CallContext | undefined {
  return metadata && contexts.get(metadata);
}

/**
 * The context the interceptor bound to this call's metadata; a call that never went through it (a unit
 * test's fake call) gets an anonymous one with all scopes and `fallback` as its logger.
 */
export function callContextOf(metadata: Metadata | undefined, fallback: Logger, method = 'unknown'): CallContext {
  const found = metadata && contexts.get(metadata);
  return found ?? { callId: '', method, principal: FULL_ACCESS('anonymous'), log: fallback };
}

/** Throws PERMISSION_DENIED naming the missing scope unless the caller holds it. */
export function requireScope(principal: Principal, scope: Scope, what: string): void {
  if (principal.scopes.has(scope)) return;
  throw new ExecError('permission', `${what} needs scope "${scope}"; token "${principal.name}" has ${[...principal.scopes].join(', ') || 'none'}`, {
    reason: 'SCOPE_MISSING',
    metadata: { scope, token: principal.name, call: what },
  });
}
