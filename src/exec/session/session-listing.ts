import { createHash } from 'node:crypto';
import { ExecError } from '../../common/errors';
import { ownValue } from '../../common/name-map';
import type { Session, SessionKind } from './session';

/** ListSessions: what to match (every filter given must match) and which page. */
export interface SessionFilter {
  /** A full container id or a prefix of one. */
  containerId?: string;
  state?: 'running' | 'finished';
  /** Every label given must be on the session with this value. */
  labels?: Record<string, string>;
  mode?: SessionKind;
  /** Only the session a Start with this request_id created. */
  requestId?: string;
  limit: number;
  /** A next_page_token of an earlier page; empty = from the first. */
  pageToken?: string;
}

export interface SessionPage {
  sessions: Session[];
  /** Empty on the last page. */
  nextPageToken: string;
}

/** A page position: the (createdAt, id) of the last session of the previous page. */
interface Position {
  createdAt: number;
  id: string;
}

/** A token's text: `createdAt:id.check`, check = 16 hex digits of positionCheck (a replica before it read `id.check` as the id: the same position). */
const TOKEN = /^(\d{1,16}):([A-Za-z0-9][A-Za-z0-9_.-]{0,110})\.([0-9a-f]{16})$/;

/** The check a token carries: not a secret (a position is none), it tells a token the service gave out from an altered or made-up one. */
function positionCheck(createdAt: number, id: string): string {
  return createHash('sha256').update(`exec-stream ListSessions page token\0${createdAt}:${id}`).digest('hex').slice(0, 16);
}

/** The page token of a position: sessions after (createdAt ms, id) in the listing order (also across replicas). */
export function pageTokenAt(createdAt: number, id: string): string {
  return encodeToken({ createdAt, id });
}

function encodeToken(p: Position): string {
  return Buffer.from(`${p.createdAt}:${p.id}.${positionCheck(p.createdAt, p.id)}`).toString('base64url');
}

/** The position of a token this service gave out, exactly as given (base64url decoding is lenient: it is re-encoded and compared). */
function decodeToken(token: string): Position {
  const text = token.length <= 256 ? Buffer.from(token, 'base64url').toString('utf8') : '';
  const m = TOKEN.exec(text);
  if (!m || Buffer.from(text).toString('base64url') !== token || positionCheck(Number(m[1]), m[2]) !== m[3])
    throw new ExecError('invalid', 'page_token is not one this service gave out: pass next_page_token of the previous page as it is');
  return { createdAt: Number(m[1]), id: m[2] };
}

const before = (a: Position, b: Position) => a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.id < b.id);
const positionOf = (s: Session): Position => ({ createdAt: s.info.createdAt, id: s.id });

function matches(s: Session, f: SessionFilter): boolean {
  if (f.containerId && !s.containerId.startsWith(f.containerId)) return false;
  if (f.state && (f.state === 'running') !== s.running) return false;
  if (f.mode && s.info.kind !== f.mode) return false;
  if (f.requestId && s.info.requestId !== f.requestId) return false;
  if (f.labels) for (const [k, v] of Object.entries(f.labels)) if (ownValue(s.info.labels, k) !== v) return false;
  return true;
}

/**
 * One page of the sessions that match, in a stable order (creation time, then session id). A page
 * token is a position in that order, not an offset, so it stays valid while sessions are added or
 * removed. Reads only in-memory state of each session: the cost does not depend on their output.
 */
export function listSessions(all: Iterable<Session>, f: SessionFilter): SessionPage {
  const after = f.pageToken ? decodeToken(f.pageToken) : undefined;
  const found: Session[] = [];
  for (const s of all) if ((!after || before(after, positionOf(s))) && matches(s, f)) found.push(s);
  found.sort((a, b) => a.info.createdAt - b.info.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const sessions = found.slice(0, f.limit);
  const nextPageToken = found.length > f.limit ? encodeToken(positionOf(sessions[sessions.length - 1])) : '';
  return { sessions, nextPageToken };
}
