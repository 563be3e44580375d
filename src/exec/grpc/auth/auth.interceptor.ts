import { Metadata, ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { ExecError, toGrpcStatus } from '../../../common/errors';
import type { Logger } from '../../../common/logger';
import { levelOfStatus, LogRateLimit, statusName } from '../../../common/log-levels';
import type { AuditTrail } from '../../../audit';
import { handedToOwner } from '../../cluster';
import { callAudit, callerOf, certificateSubject, recordCall } from './call-audit';
import { bindCallContext, requireScope, type CallContext } from './call-context';
import { FULL_ACCESS, type Scope, type TokenStore } from './token-store';

/** Health checks stay open so that Kubernetes probes need no secret. */
const OPEN_PREFIXES = ['/grpc.health.v1.Health/'];

/**
 * The token of exactly one of the two documented forms: `Bearer <token>` (all that follows the one
 * space is the token) or the reference client's `Basic base64(":" + token)` (strict base64, empty user
 * name). The scheme is case-insensitive (RFC 9110); anything else gives undefined.
 */
export function tokenFromAuthorization(header: string | undefined): string | undefined {
  const m = /^([A-Za-z]+) (.+)$/s.exec(header ?? '');
  if (!m) return undefined;
  const [, scheme, value] = m;
  if (/^bearer$/i.test(scheme)) return value;
  if (/^basic$/i.test(scheme) && /^[A-Za-z0-9+/]+={0,2}$/.test(value)) {
    const raw = Buffer.from(value, 'base64');
    if (raw.toString('base64') !== value) return undefined; // not canonical base64: not the documented form
    const decoded = raw.toString('utf8');
    return decoded.startsWith(':') ? decoded.slice(1) : undefined;
  }
  return undefined;
}

/** RPCs whose scope the method alone decides; Session's depends on its Start message (SessionCallHandler). */
export const METHOD_SCOPES: Readonly<Record<string, Scope>> = {
  ContainerLifecycle: 'read',
  ContainerStatus: 'read',
  ContainerPause: 'control',
  ContainerResume: 'control',
  ContainerSignal: 'control',
  ListSessions: 'read',
  // CopyTo changes a container's files, as a command could: `run`. CopyFrom only reads them.
  CopyTo: 'run',
  CopyFrom: 'read',
  // Forgetting a session (and, with force, killing its process) is an operator's act, as pause and signal are.
  RemoveSession: 'control',
  // Who did what is for auditors, not for everyone who may read output.
  AuditEvents: 'audit',
  SessionResizes: 'read',
};

/** The most bytes of a client's `x-request-id`; it must also be printable ASCII. */
export const REQUEST_ID_MAX_BYTES = 128;
const REQUEST_ID = new RegExp(`^[\\x20-\\x7e]{1,${REQUEST_ID_MAX_BYTES}}$`);

/** The call's `x-request-id`: undefined when absent; throws when it is not one printable value of ≤ 128 bytes. */
export function requestIdOf(metadata: Metadata): string | undefined {
  const values = metadata.get('x-request-id');
  if (values.length === 0) return undefined;
  const value = values.length === 1 && typeof values[0] === 'string' ? values[0] : undefined;
  if (value === undefined || !REQUEST_ID.test(value)) {
    throw new ExecError('invalid', `x-request-id must be one value of 1-${REQUEST_ID_MAX_BYTES} printable ASCII characters`, {
      reason: 'FIELD_INVALID',
      field: 'x-request-id',
    });
  }
  return value;
}

/** What the authorization header was, on the line of a call refused UNAUTHENTICATED (never the header itself). */
function authorizationProblem(header: string | undefined): 'absent' | 'not Bearer or Basic' | 'unknown token' {
  if (header === undefined) return 'absent';
  return tokenFromAuthorization(header) === undefined ? 'not Bearer or Basic' : 'unknown token';
}

/**
 * A grpc-js server interceptor: it runs before any Nest handler, for unary and streaming calls alike.
 * It refuses a call without a known token (UNAUTHENTICATED) or without the method's scope
 * (PERMISSION_DENIED, METHOD_SCOPES), binds the call's CallContext to its metadata, and logs one line
 * per call: `call refused` (warn) or, when it ends, `call ended` at the level of its code
 * (levelOfStatus; warn and error lines rate limited), each with the call's request id (its
 * `x-request-id`, or the call id, which then becomes the call's `x-request-id` for the handlers and the
 * replicas it is forwarded to), peer address, token name (never the token), code name and, once the
 * handler knows it, session id. The request id is also sent back in the response headers. Without any
 * token configured every call is `anonymous` with all scopes.
 *
 * With an audit trail (docs/AUDIT.md) it also records the call there, before it is answered: a refusal
 * (its own, or a handler's error status) with its reason, and the call's action when its response
 * headers go out (a Session's handler records its own events). A call is refused RESOURCE_EXHAUSTED,
 * naming the trail, while the trail cannot be written. A call handed to its owner replica is recorded
 * there, not here.
 */
export function authInterceptor(store: TokenStore, root: Logger, trail?: AuditTrail): ServerInterceptor {
  const limit = new LogRateLimit(root);
  return (methodDescriptor, call) => {
    if (OPEN_PREFIXES.some((p) => methodDescriptor.path.startsWith(p))) return new ServerInterceptingCall(call);
    const path = methodDescriptor.path;
    const method = path.slice(path.lastIndexOf('/') + 1);
    const callId = randomUUID();
    const started = performance.now();
    const peer = call.getPeer();
    const subject = trail?.enabled ? certificateSubject(call.getAuthContext()) : undefined;
    const context: CallContext = {
      callId,
      method,
      principal: FULL_ACCESS('anonymous'),
      requestId: callId,
      log: root.child({ callId, method, requestId: callId, peer }),
      caller: { subject, peer },
      audit: { recorded: false, details: {} },
    };
    let requestMetadata: Metadata | undefined;
    /** Writes the call's event (unless its handler did, or its owner replica will); a failure after the fact is logged. */
    const audit = (result?: { code: status; details: string }) => {
      if (!trail?.enabled || callAudit(context).recorded || handedToOwner(requestMetadata)) return;
      try {
        recordCall(trail, context, result ? { result: statusName(result.code), reason: result.details } : {});
      } catch (err) {
        context.log.error(
          { err: (err as Error).message },
          result ? 'a refused call could not be recorded in the audit trail' : 'an answered call could not be recorded in the audit trail',
        );
      }
    };
    let refused = false;
    const refuse = (err: ExecError, fields: Record<string, unknown> = {}) => {
      refused = true;
      const s = toGrpcStatus(err);
      audit({ code: s.code, details: s.details });
      if (limit.allow('call refused', 'warn')) context.log.warn({ code: statusName(s.code), details: s.details, ...fields }, 'call refused');
      s.metadata.set('x-request-id', context.requestId!);
      call.sendStatus(s);
    };
    return new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata: Metadata, mdNext) => {
            requestMetadata = metadata;
            // The request id first, so that even a refusal's line carries it; a bad one is refused after auth.
            let badRequestId: ExecError | undefined;
            try {
              const requestId = requestIdOf(metadata);
              if (requestId !== undefined) {
                context.requestId = requestId;
                context.log = root.child({ callId, method, requestId, peer: call.getPeer() });
              } else metadata.set('x-request-id', callId);
            } catch (err) {
              badRequestId = err as ExecError;
            }
            if (store.enabled) {
              const raw = metadata.get('authorization')[0];
              const header = typeof raw === 'string' ? raw : raw?.toString();
              const given = tokenFromAuthorization(header);
              const found = given === undefined ? undefined : store.lookup(given);
              if (!found) {
                return refuse(
                  new ExecError(
                    'unauthenticated',
                    'missing or wrong token: send metadata "authorization: Bearer <token>" (or Basic base64(":" + token)) with EXEC_AUTH_TOKEN or a token of EXEC_AUTH_TOKENS_FILE',
                    { reason: 'TOKEN_INVALID' },
                  ),
                  { token: null, authorization: authorizationProblem(header) },
                );
              }
              context.principal = found;
            }
            context.log = context.log.child({ token: context.principal.name });
            if (trail?.enabled) context.caller = callerOf(metadata, context.principal.name, subject, peer);
            try {
              if (badRequestId) throw badRequestId;
              const scope = METHOD_SCOPES[method];
              if (scope) requireScope(context.principal, scope, method);
              // Nothing is done that the trail could not record (docs/AUDIT.md); reading the trail stays open.
              if (method !== 'AuditEvents') trail?.assertWritable();
            } catch (err) {
              return refuse(err as ExecError);
            }
            bindCallContext(metadata, context);
            mdNext(metadata);
          },
          onReceiveMessage: (message, next) => {
            // The first request message says what was asked (a unary request, a Start, a CopyTo header).
            const a = callAudit(context);
            if (a.first === undefined) a.first = message;
            next(message);
          },
        });
      },
      sendMetadata: (metadata, next) => {
        metadata.set('x-request-id', context.requestId!);
        // The answer begins: its call is recorded first (a Session's handler records its own events).
        if (!refused && method !== 'Session') audit();
        next(metadata);
      },
      sendStatus: (s, next) => {
        // Also in the trailers: a call that fails before sending headers sends trailers only.
        const trailers = s.metadata ?? new Metadata();
        trailers.set('x-request-id', context.requestId!);
        if (!refused && s.code !== status.CANCELLED && (s.code !== status.OK || method !== 'Session')) audit(s.code === status.OK ? undefined : s);
        if (!refused) {
          const level = levelOfStatus(s.code);
          if (level === 'info' || limit.allow(`call ended: ${level}`, level)) {
            const fields = { code: statusName(s.code), ms: Math.round(performance.now() - started), ...(s.code === status.OK ? {} : { details: s.details }) };
            context.log[level](fields, 'call ended');
          }
        }
        next({ ...s, metadata: trailers });
      },
    });
  };
}
