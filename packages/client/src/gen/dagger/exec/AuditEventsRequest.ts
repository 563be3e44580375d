// Original file: proto/exec.proto

import type { Long } from '@grpc/proto-loader';

/**
 * exec-stream: AuditEvents filters (all given must match) and mode.
 */
export interface AuditEventsRequest {
  /**
   * Only events at or after this time (Unix ns); 0 = from the oldest held.
   */
  'since'?: (number | string | Long);
  /**
   * Only events before this time (Unix ns); 0 = no end. With `follow`, the stream ends once past it.
   */
  'until'?: (number | string | Long);
  /**
   * Only calls of this caller: a token's name or a client certificate's subject (exact).
   */
  'caller'?: (string);
  'session_id'?: (string);
  /**
   * A full container id or a unique prefix of it.
   */
  'container_id'?: (string);
  /**
   * Only these actions (AuditEvent.action); empty = all.
   */
  'actions'?: (string)[];
  /**
   * After the held events (and `caught_up`), go on with live ones until the client cancels.
   */
  'follow'?: (boolean);
  /**
   * Event ids (AuditEvent.id) already seen, the last one of each replica: each replica's events resume
   * after its own. A replica not named starts from its oldest held event (or `since`).
   */
  'resume_after'?: (string)[];
}

/**
 * exec-stream: AuditEvents filters (all given must match) and mode.
 */
export interface AuditEventsRequest__Output {
  /**
   * Only events at or after this time (Unix ns); 0 = from the oldest held.
   */
  'since'?: (string);
  /**
   * Only events before this time (Unix ns); 0 = no end. With `follow`, the stream ends once past it.
   */
  'until'?: (string);
  /**
   * Only calls of this caller: a token's name or a client certificate's subject (exact).
   */
  'caller'?: (string);
  'session_id'?: (string);
  /**
   * A full container id or a unique prefix of it.
   */
  'container_id'?: (string);
  /**
   * Only these actions (AuditEvent.action); empty = all.
   */
  'actions'?: (string)[];
  /**
   * After the held events (and `caught_up`), go on with live ones until the client cancels.
   */
  'follow'?: (boolean);
  /**
   * Event ids (AuditEvent.id) already seen, the last one of each replica: each replica's events resume
   * after its own. A replica not named starts from its oldest held event (or `since`).
   */
  'resume_after'?: (string)[];
}
