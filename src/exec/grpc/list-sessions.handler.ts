import type { Metadata } from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import type { ExecConfig } from '../../common/config/exec-config';
import { EXEC_CONFIG } from '../../common/tokens';
import { boundPage, MergedListing, RoutedCalls } from '../cluster';
import type { ListSessionsRequest__Output, ListSessionsResponse, SessionInfo } from '@exec-stream/client/wire';
import { ExecError } from '../../common/errors';
import { nameMap } from '../../common/name-map';
import { optionalId, quoted } from '../../common/request-ids';
import { START_REQUEST_ID_MAX_BYTES, SessionManager, toWireOutcome, unixNs, type Session, type SessionFilter } from '../session';

/** ListSessions page size when the request gives none, and the most it may ask for. */
export const LIST_DEFAULT_LIMIT = 100;
export const LIST_MAX_LIMIT = 1000;
/** The most label filters one request may give, and the most bytes of a page token. */
const MAX_LABEL_FILTERS = 64;
const MAX_PAGE_TOKEN_BYTES = 256;

/**
 * ListSessions: validates the filters (bad input is INVALID_ARGUMENT naming the field), then one page of
 * SessionInfo, at most `limit` sessions and LIST_MAX_PAGE_BYTES: this replica's, merged with every
 * peer's when there are peers (docs/SCALING.md).
 */
@Injectable()
export class ListSessionsHandler {
  constructor(
    private readonly sessions: SessionManager,
    private readonly routed: RoutedCalls,
    private readonly merged: MergedListing,
    @Inject(EXEC_CONFIG) private readonly config: ExecConfig,
  ) {}

  async list(req: ListSessionsRequest__Output, metadata?: Metadata): Promise<ListSessionsResponse> {
    const filter = parseListRequest(req);
    const page = this.sessions.list(filter);
    const infos = page.sessions.map((s) => sessionInfoOf(s, this.config.EXEC_REPLICA_ID));
    const local = boundPage(infos, filter.limit, !!page.nextPageToken);
    return this.routed.mergesPeers(metadata) ? this.merged.list(req, filter.limit, local, metadata) : local;
  }
}

/** The request as a SessionFilter; INVALID_ARGUMENT for a bad state, mode, limit, label or token. */
export function parseListRequest(req: ListSessionsRequest__Output): SessionFilter {
  const state = req.state ?? '';
  if (state && state !== 'running' && state !== 'finished')
    throw new ExecError('invalid', `state ${quoted(state)}: use "running", "finished" or leave it empty`, { reason: 'FIELD_INVALID', field: 'state' });
  const mode = req.mode ?? '';
  if (mode && mode !== 'run' && mode !== 'exec') {
    throw new ExecError('invalid', `mode ${quoted(mode)}: use "run", "exec" or leave it empty`, { reason: 'FIELD_INVALID', field: 'mode' });
  }
  const limit = req.limit ?? 0;
  if (limit > LIST_MAX_LIMIT) {
    throw new ExecError('invalid', `limit ${limit} is above the maximum of ${LIST_MAX_LIMIT} sessions per page`, { reason: 'FIELD_INVALID', field: 'limit' });
  }
  const labels = nameMap(req.labels ?? {});
  if (Object.keys(labels).length > MAX_LABEL_FILTERS) {
    throw new ExecError('invalid', `labels: at most ${MAX_LABEL_FILTERS} label filters`, { reason: 'FIELD_INVALID', field: 'labels' });
  }
  const requestId = req.request_id ?? '';
  if (Buffer.byteLength(requestId) > START_REQUEST_ID_MAX_BYTES) {
    throw new ExecError('invalid', `request_id is over ${START_REQUEST_ID_MAX_BYTES} bytes`, { reason: 'FIELD_INVALID', field: 'request_id' });
  }
  const token = req.page_token ?? '';
  if (Buffer.byteLength(token) > MAX_PAGE_TOKEN_BYTES) {
    throw new ExecError('invalid', 'page_token is not one this service gave out (too long)', { reason: 'FIELD_INVALID', field: 'page_token' });
  }
  return {
    containerId: optionalId('container_id', req.container_id) || undefined,
    state: state ? (state as SessionFilter['state']) : undefined,
    mode: mode ? (mode as SessionFilter['mode']) : undefined,
    labels: Object.keys(labels).length ? labels : undefined,
    requestId: requestId || undefined,
    sessionId: optionalId('session_id', req.session_id) || undefined,
    limit: limit || LIST_DEFAULT_LIMIT,
    pageToken: token || undefined,
  };
}

/** One session as ListSessions gives it: in-memory state only (no file is read). */
export function sessionInfoOf(s: Session, replica: string): SessionInfo {
  const bytes = s.output.bytes;
  const record = s.outcome?.record;
  return {
    session_id: s.id,
    container_id: s.containerId,
    exec_id: s.execId ?? '',
    image: s.info.image ?? '',
    command: s.info.command,
    tty: s.info.tty,
    state: s.running ? 'running' : 'finished',
    clients_attached: s.clientCount,
    created_at: unixNs(s.info.createdAt),
    started_at: unixNs(s.startedAt),
    finished_at: unixNs(s.running ? undefined : s.finishedAt),
    outcome: record ? toWireOutcome(record) : undefined,
    output_bytes: String(bytes.stdout + bytes.stderr),
    last_sequence: String(s.output.lastSequence),
    mode: s.info.kind,
    labels: s.info.labels ?? {},
    request_id: s.info.requestId ?? '',
    replica,
  };
}
