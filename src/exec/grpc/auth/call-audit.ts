import type { Metadata } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import type { Start__Output } from '@exec-stream/client/wire';
import type { AuditAction, AuditCallerRecord, AuditEventInput, AuditRequestRecord, AuditTrail } from '../../../audit';
import { FORWARDED_BY, ORIGIN_PEER, ORIGIN_SUBJECT } from '../../cluster';
import type { SessionManager } from '../../session';
import type { AuditDetails, CallAudit, CallContext } from './call-context';

/** The action each RPC's calls are recorded as (a Session's own is run, exec or attach once its Start is read). */
export const METHOD_ACTIONS: Readonly<Record<string, AuditAction>> = {
  Session: 'session',
  ContainerLifecycle: 'lifecycle',
  ContainerStatus: 'container_status',
  ContainerPause: 'pause',
  ContainerResume: 'resume',
  ContainerSignal: 'signal',
  ListSessions: 'list_sessions',
  CopyTo: 'copy_to',
  CopyFrom: 'copy_from',
  AuditEvents: 'audit_events',
  SessionResizes: 'session_resizes',
};

/** Strings of a refused request kept in the trail: enough to see what was asked, never a flood. */
const REFUSED_STRING_BYTES = 1024;
const REFUSED_ITEMS = 64;

/** The audit state of a call (made on first use: a call that did not pass the interceptor gets one too). */
export function callAudit(ctx: CallContext): CallAudit {
  return (ctx.audit ??= { recorded: false, details: {} });
}

/**
 * Records the call's event now (its handler's action, or the method's), with what the call asked and
 * what the handler learnt, and marks it recorded. Throws, naming the trail, when it cannot be written.
 */
export function recordCall(trail: AuditTrail | undefined, ctx: CallContext, input: Partial<AuditEventInput> = {}): void {
  const audit = callAudit(ctx);
  const action = input.action ?? audit.action ?? METHOD_ACTIONS[ctx.method] ?? 'session';
  const details = { ...detailsOf(ctx.method, audit.first, input.result !== undefined && input.result !== 'ok'), ...audit.details };
  audit.recorded = true;
  trail?.record({
    ...details,
    ...input,
    action,
    request: { ...details.request, ...input.request },
    caller: ctx.caller,
    request_id: ctx.requestId,
  });
}

/** The fields a call's first message gives, per method (`refused`: its strings and lists are cut to a bounded size). */
export function detailsOf(method: string, first: unknown, refused: boolean): AuditDetails {
  const m = (first ?? {}) as Record<string, unknown> & { start?: Start__Output };
  const str = (v: unknown) => (typeof v === 'string' && v ? (refused ? cut(v) : v) : undefined);
  switch (method) {
    case 'Session':
      return m.start ? startDetails(m.start, refused) : {};
    case 'ContainerStatus':
    case 'ContainerPause':
    case 'ContainerResume':
    case 'ContainerLifecycle':
      return { container_id: str(m.container_id) };
    case 'ContainerSignal':
      return { container_id: str(m.container_id), exec_id: str(m.exec_id), request: { signal: str(m.signal) } };
    case 'CopyFrom':
      return { container_id: str(m.container_id), request: { path: str(m.path) } };
    case 'CopyTo': {
      const h = (m.header ?? {}) as Record<string, unknown>;
      return { container_id: str(h.container_id), request: { path: str(h.path) } };
    }
    case 'ListSessions':
      return {
        container_id: str(m.container_id),
        request: { state: str(m.state), mode: str(m.mode), labels: map(m.labels, refused), start_request_id: str(m.request_id) },
      };
    case 'AuditEvents':
      return {
        session_id: str(m.session_id),
        container_id: str(m.container_id),
        request: { caller: str(m.caller), actions: list(m.actions, refused), follow: m.follow === true || undefined },
      };
    case 'SessionResizes':
      return { session_id: str(m.session_id) };
    default:
      return {};
  }
}

/** What a Start asked for: image, command, user, env names (never values), labels, limits, timeouts. */
export function startDetails(s: Start__Output, refused = false): AuditDetails {
  const str = (v: string | undefined) => (v ? (refused ? cut(v) : v) : undefined);
  const num = (v: unknown) => (v !== undefined && v !== null && Number(v) ? Number(v) : undefined);
  const request: AuditRequestRecord = {
    image: str(s.image),
    command: list(s.command, refused),
    user: str(s.user),
    env_names: list(Object.keys(s.env ?? {}).sort(), refused),
    labels: map(s.labels, refused),
    working_dir: str(s.working_dir),
    tty: s.tty || undefined,
    open_stdin: s.open_stdin || undefined,
    memory_bytes: num(s.memory_bytes),
    cpus: num(s.cpus),
    pids_limit: num(s.pids_limit),
    timeout_ms: num(s.timeout_ms),
    idle_timeout_ms: num(s.idle_timeout_ms),
    kill_grace_ms: num(s.kill_grace_ms),
    read_only_rootfs: s.read_only_rootfs ?? undefined,
    pull: str(s.pull),
    start_request_id: str(s.request_id),
    replay_from_sequence: num(s.replay_from_sequence),
  };
  return { session_id: str(s.session_id), container_id: str(s.container_id), exec_id: str(s.exec_id), request };
}

function cut(v: string): string {
  if (Buffer.byteLength(v) <= REFUSED_STRING_BYTES) return v;
  return `${Buffer.from(v)
    .subarray(0, REFUSED_STRING_BYTES)
    .toString('utf8')
    .replace(/\uFFFD+$/, '')}… (${Buffer.byteLength(v)} bytes, cut)`;
}

function list(v: unknown, refused: boolean): string[] | undefined {
  if (!Array.isArray(v) || !v.length) return undefined;
  const items = v.map(String);
  return refused ? items.slice(0, REFUSED_ITEMS).map(cut) : items;
}

function map(v: unknown, refused: boolean): Record<string, string> | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const entries = Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)] as const);
  if (!entries.length) return undefined;
  return Object.fromEntries(refused ? entries.slice(0, REFUSED_ITEMS).map(([k, x]) => [cut(k), cut(x)]) : entries);
}

/** A client certificate's subject as one string, RFC 4514 style (`CN=ci,O=example`); undefined without one. */
export function certificateSubject(auth: { sslPeerCertificate?: PeerCertificate } | null | undefined): string | undefined {
  const subject = auth?.sslPeerCertificate?.subject as unknown as Record<string, string | string[]> | undefined;
  if (!subject) return undefined;
  const esc = (v: string) => v.replace(/([\\,+"<>;=])/g, '\\$1');
  const parts = Object.entries(subject).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}=${esc(String(x))}`));
  return parts.length ? parts.join(',') : undefined;
}

/**
 * The caller of a call as the trail records it. A call no replica forwarded: its token, its certificate
 * subject and address, which are also set on its metadata (ORIGIN_*: anything the client sent there is
 * replaced) so that a replica it is forwarded to records the same caller. A forwarded call: the caller
 * as the forwarding replica reported it, and that replica's own connection.
 */
export function callerOf(metadata: Metadata, token: string | undefined, subject: string | undefined, peer: string): AuditCallerRecord {
  const one = (key: string) => {
    const v = metadata.get(key)[0];
    return typeof v === 'string' && v ? decode(v) : undefined;
  };
  const forwardedBy = one(FORWARDED_BY);
  if (forwardedBy) {
    return { token, subject: one(ORIGIN_SUBJECT), peer: one(ORIGIN_PEER), forwarded_by: forwardedBy, forwarder_subject: subject, forwarder_peer: peer };
  }
  metadata.remove(ORIGIN_SUBJECT);
  if (subject) metadata.set(ORIGIN_SUBJECT, encodeURIComponent(subject));
  metadata.set(ORIGIN_PEER, encodeURIComponent(peer));
  return { token, subject, peer };
}

function decode(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/**
 * Gives a container call's audit event the container's full id and its session (the call may name a
 * prefix); an unknown or ambiguous container leaves the id as the call gave it.
 */
export function noteContainer(ctx: CallContext | undefined, sessions: SessionManager, containerId: string | undefined, execId?: string): void {
  if (!ctx?.audit || !containerId) return;
  try {
    const full = sessions.containerByPrefix(containerId);
    if (!full) return;
    ctx.audit.details.container_id = full;
    ctx.audit.details.session_id = sessions.findByContainer(full, execId || undefined).id;
  } catch {
    /* the event keeps the id as the call gave it */
  }
}
