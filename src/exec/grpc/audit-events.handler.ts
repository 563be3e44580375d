import { Metadata } from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import { Observable } from 'rxjs';
import { waitForDrain, type AuditEvent, type AuditEventsRequest__Output, type AuditEventsResponse } from '@exec-stream/client/wire';
import { AUDIT_ACTIONS, AuditTrail, readAuditTrail, type AuditFilter, type StoredAuditEvent } from '../../audit';
import type { ExecConfig } from '../../common/config/exec-config';
import { ExecError } from '../../common/errors';
import { quoted, optionalId } from '../../common/request-ids';
import { EXEC_CONFIG } from '../../common/tokens';
import { MergedAudit, RoutedCalls } from '../cluster';
import type { ServerStreamCall } from './server-stream-call';
import { msToNs, nsToMs } from '../../common/time';
import { DNS_LABEL } from '../../common/patterns';

/** An audit event id: `<replica>:<seq>`. */
const AUDIT_EVENT_ID = new RegExp(`^(${DNS_LABEL}):(\\d{1,15})$`);

/** What the handler needs of the raw grpc-js server-writable call. */
export type AuditEventsCallStream = ServerStreamCall<AuditEventsResponse>;

const ACTIONS: ReadonlySet<string> = new Set(AUDIT_ACTIONS);
/** The most actions and resume_after entries one request may give. */
const MAX_LIST = 64;

/**
 * AuditEvents: this replica's trail read with the request's filters (and every peer's, merged by time,
 * when there are peers), written to the call one message at a time with gRPC's flow control; with
 * `follow`, live events until the client leaves. The headers go at once (the call is recorded then).
 */
@Injectable()
export class AuditEventsHandler {
  constructor(
    private readonly trail: AuditTrail,
    private readonly routed: RoutedCalls,
    private readonly merged: MergedAudit,
    @Inject(EXEC_CONFIG) private readonly config: ExecConfig,
  ) {}

  handle(req: AuditEventsRequest__Output, call: AuditEventsCallStream): Observable<never> {
    const { filter, afterSeq } = parseAuditRequest(req, this.config.EXEC_REPLICA_ID);
    if (!this.trail.enabled) throw new ExecError('precondition', `the audit trail of replica ${this.config.EXEC_REPLICA_ID} is off (EXEC_AUDIT=off)`);
    return new Observable<never>((subscriber) => {
      const ended = new AbortController();
      call.sendMetadata?.(new Metadata());
      const local = this.local(filter, afterSeq, !!req.follow, ended.signal);
      const items = this.routed.mergesPeers(call.metadata) ? this.merged.merge(req, local, call.metadata, ended.signal) : local;
      this.deliver(items, call, ended).then(
        () => subscriber.complete(),
        (err) => subscriber.error(err),
      );
      return () => ended.abort();
    });
  }

  private async *local(filter: AuditFilter, afterSeq: number | undefined, follow: boolean, signal: AbortSignal): AsyncGenerator<AuditEventsResponse> {
    for await (const item of readAuditTrail(this.trail, filter, { afterSeq, follow, signal })) {
      yield item === 'caught_up' ? { caught_up: true } : { event: toWireEvent(item) };
    }
  }

  private async deliver(items: AsyncGenerator<AuditEventsResponse>, call: AuditEventsCallStream, ended: AbortController): Promise<void> {
    const gone = () => ended.abort();
    call.on('cancelled', gone);
    call.on('close', gone);
    call.on('error', gone);
    try {
      if (call.cancelled) return;
      for await (const item of items) {
        if (ended.signal.aborted) break;
        if (!call.write(item)) await waitForDrain(call, ended.signal);
      }
    } finally {
      ended.abort();
      call.removeListener('cancelled', gone);
      call.removeListener('close', gone);
      call.removeListener('error', gone);
    }
  }
}

/** The request as a filter and this replica's resume point; INVALID_ARGUMENT naming a bad field. */
export function parseAuditRequest(req: AuditEventsRequest__Output, replica: string): { filter: AuditFilter; afterSeq?: number } {
  const time = (field: string, v: string | undefined) => {
    const s = v || '0';
    if (!/^\d+$/.test(s)) throw new ExecError('invalid', `${field} ${quoted(s)} is not a time in Unix ns`);
    const ms = nsToMs(s);
    return ms ? ms : undefined;
  };
  const actions = req.actions ?? [];
  if (actions.length > MAX_LIST) throw new ExecError('invalid', `actions: at most ${MAX_LIST}`);
  for (const a of actions) if (!ACTIONS.has(a)) throw new ExecError('invalid', `action ${quoted(a)} is not one of ${AUDIT_ACTIONS.join(', ')}`);
  const resume = req.resume_after ?? [];
  if (resume.length > MAX_LIST) throw new ExecError('invalid', `resume_after: at most ${MAX_LIST} event ids`);
  let afterSeq: number | undefined;
  for (const id of resume) {
    const m = AUDIT_EVENT_ID.exec(id);
    if (!m) throw new ExecError('invalid', `resume_after ${quoted(id)} is not an audit event id (<replica>:<seq>)`);
    if (m[1] === replica) afterSeq = Number(m[2]);
  }
  const caller = req.caller ?? '';
  if (Buffer.byteLength(caller) > 1024) throw new ExecError('invalid', 'caller is over 1024 bytes');
  return {
    filter: {
      sinceMs: time('since', req.since),
      untilMs: time('until', req.until),
      caller: caller || undefined,
      sessionId: optionalId('session_id', req.session_id) || undefined,
      containerId: optionalId('container_id', req.container_id) || undefined,
      actions: actions.length ? new Set(actions) : undefined,
    },
    afterSeq,
  };
}

/** A stored event as the wire's AuditEvent (times in Unix ns, the id `<replica>:<seq>`). */
export function toWireEvent(e: StoredAuditEvent): AuditEvent {
  return {
    id: `${e.replica}:${e.seq}`,
    replica: e.replica,
    seq: String(e.seq),
    time: String(msToNs(Date.parse(e.time))),
    action: e.action,
    result: e.result,
    reason: e.reason ?? '',
    caller: e.caller,
    request_id: e.request_id ?? '',
    session_id: e.session_id ?? '',
    container_id: e.container_id ?? '',
    exec_id: e.exec_id ?? '',
    request: e.request,
    outcome: e.outcome,
    prev_hash: e.prev_hash,
    hash: e.hash,
  };
}
