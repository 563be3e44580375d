import { status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import type { AuditEventsRequest, AuditEventsResponse__Output } from './gen';
import type { GRPCConnectionManager } from './grpc-connection-manager';

/** What AuditEvents is asked for (docs/AUDIT.md); every filter given must match. */
export interface AuditQuery {
  /** Only events at or after / before these times. */
  since?: Date;
  until?: Date;
  /** A token's name or a client certificate's subject. */
  caller?: string;
  sessionId?: string;
  /** A full container id or a unique prefix. */
  containerId?: string;
  actions?: string[];
  /** After the held events (and `caught_up`), go on with live ones until cancel(). */
  follow?: boolean;
  /** The last event id (`<replica>:<seq>`) seen of each replica: each resumes after its own. */
  resumeAfter?: string[];
}

const unixNs = (d: Date | undefined) => (d ? String(BigInt(d.getTime()) * 1_000_000n) : '0');

/**
 * One AuditEvents call: its messages (events, `caught_up`, replica notices) read with `for await`, at
 * the reader's pace (gRPC flow control reaches the service). A cancel() ends it without an error.
 */
export class AuditStream implements AsyncIterable<AuditEventsResponse__Output> {
  /** The last event id seen of each replica (what `resumeAfter` takes to go on after a break). */
  readonly lastIds = new Map<string, string>();

  constructor(readonly call: ClientReadableStream<AuditEventsResponse__Output>) {}

  async *[Symbol.asyncIterator](): AsyncIterator<AuditEventsResponse__Output> {
    try {
      for await (const m of this.call as AsyncIterable<AuditEventsResponse__Output>) {
        if (m.event?.replica && m.event.id) this.lastIds.set(m.event.replica, m.event.id);
        yield m;
      }
    } catch (err) {
      if ((err as ServiceError).code !== status.CANCELLED) throw err;
    }
  }

  cancel(): void {
    this.call.cancel();
  }
}

/** The audit trail's reader (scope `audit`). */
export class AuditClient {
  constructor(private readonly connection: GRPCConnectionManager) {}

  events(query: AuditQuery = {}): AuditStream {
    const req: AuditEventsRequest = {
      since: unixNs(query.since),
      until: unixNs(query.until),
      caller: query.caller ?? '',
      session_id: query.sessionId ?? '',
      container_id: query.containerId ?? '',
      actions: query.actions ?? [],
      follow: !!query.follow,
      resume_after: query.resumeAfter ?? [],
    };
    return new AuditStream(this.connection.getClient().AuditEvents(req, this.connection.getMetadata()));
  }
}
