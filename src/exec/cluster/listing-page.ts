import type { ListSessionsResponse, SessionInfo } from '@exec-stream/client/wire';
import { pageTokenAt } from '../session';
import { nsToMs } from '../../common/time';

/**
 * The most bytes of a ListSessions page (estimated as sessionInfoBytes does): far below grpc-js's
 * default 4 MiB receive limit, also for a page merged from several replicas. One session is at most
 * ~340 KiB (docs/PROTOCOL.md limits), so a page always holds at least two.
 */
export const LIST_MAX_PAGE_BYTES = 1024 * 1024;

/** Tag (≤ 2 bytes) and length (≤ 5) of a length-delimited field, and a varint field with its tag. */
const FIELD = 7;
const NUMBER = 12;
const text = (s: string | undefined | null) => (s === undefined || s === null ? 0 : Buffer.byteLength(s) + FIELD);

/** At least the protobuf size of `info` as one ListSessionsResponse.sessions item (within 2 % or so of it for a large one), without encoding it. */
export function sessionInfoBytes(info: SessionInfo): number {
  let n = FIELD + 8 * NUMBER;
  for (const s of [info.session_id, info.container_id, info.exec_id, info.image, info.state, info.mode, info.request_id, info.replica]) n += text(s);
  for (const arg of info.command ?? []) n += text(arg);
  for (const [k, v] of Object.entries(info.labels ?? {})) n += FIELD + text(k) + text(v);
  if (info.outcome) n += FIELD + 10 * NUMBER + text(info.outcome.reason) + text(info.outcome.message);
  return n;
}

/** A session's creation time in Unix ms, from the wire's Unix ns. */
export const createdMs = (s: SessionInfo): number => nsToMs(String(s.created_at ?? '0'));

/** The listing order (creation time, then session id) of wire SessionInfos, as listSessions orders Sessions. */
export const byPosition = (a: SessionInfo, b: SessionInfo): number =>
  createdMs(a) - createdMs(b) || ((a.session_id ?? '') < (b.session_id ?? '') ? -1 : (a.session_id ?? '') > (b.session_id ?? '') ? 1 : 0);

/**
 * One page of `infos` (in listing order): the first `limit` of them that fit in LIST_MAX_PAGE_BYTES
 * (at least one). The next token is the position of the last one kept when some were left out or
 * `more` says there are others after them.
 */
export function boundPage(
  infos: readonly SessionInfo[],
  limit: number,
  more: boolean,
  maxBytes = LIST_MAX_PAGE_BYTES,
): Required<Pick<ListSessionsResponse, 'sessions' | 'next_page_token'>> {
  let n = 0;
  for (let bytes = 0; n < Math.min(limit, infos.length); n++) {
    bytes += sessionInfoBytes(infos[n]);
    if (bytes > maxBytes && n > 0) break;
  }
  const sessions = infos.slice(0, n);
  const last = sessions[n - 1];
  return { sessions, next_page_token: last && (n < infos.length || more) ? pageTokenAt(createdMs(last), last.session_id ?? '') : '' };
}
