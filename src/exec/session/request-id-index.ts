import { createHash } from 'node:crypto';
import { ExecError } from '../../common/errors';
import { quoted } from '../../common/request-ids';
import type { Session } from './session';

/** The most bytes of a Start.request_id. */
export const START_REQUEST_ID_MAX_BYTES = 128;

/**
 * What a Start asked for, as a digest of its fields in a canonical order (maps sorted by key): a
 * retry with the same request_id must ask for the same thing.
 */
export function requestFingerprint(fields: Record<string, unknown>): string {
  return createHash('sha256').update(canonical(fields)).digest('hex');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * Start.request_id → the session that Start created, while it is being set up and for as long as the
 * session is retained (restart recovery re-registers it from meta.json). A second Start with the same
 * id gets that session (it attaches instead of starting a process again); with a different request it
 * is ALREADY_EXISTS.
 */
export class RequestIdIndex {
  private readonly sessions = new Map<string, Session>();
  private readonly pending = new Map<string, { fingerprint: string; session: Promise<Session> }>();

  /** The session (or its set-up) created by `requestId`; undefined when none; ALREADY_EXISTS when it asked for something else. */
  find(requestId: string, fingerprint: string): Promise<Session> | undefined {
    const pending = this.pending.get(requestId);
    const session = this.sessions.get(requestId);
    const known = pending?.fingerprint ?? session?.info.requestFingerprint;
    if (!pending && !session) return undefined;
    if (known !== fingerprint) {
      throw new ExecError(
        'already_exists',
        `request_id ${quoted(requestId)} was already used for a different Start${session ? ` (session ${session.id})` : ''}: a retry must repeat the same Start`,
        { reason: 'REQUEST_ID_CONFLICT', field: 'start.request_id', ...(session ? { resource: { type: 'session', name: session.id } } : {}) },
      );
    }
    return pending?.session ?? Promise.resolve(session!);
  }

  /** Tracks a Start being set up under `requestId`; once it settles the session is indexed (or the id freed). */
  track(requestId: string, fingerprint: string, starting: Promise<Session>): void {
    this.pending.set(requestId, { fingerprint, session: starting });
    starting.then(
      (s) => {
        this.pending.delete(requestId);
        this.sessions.set(requestId, s);
      },
      () => this.pending.delete(requestId),
    );
  }

  /** A session exists, or is being set up, for `requestId`. */
  has(requestId: string): boolean {
    return this.pending.has(requestId) || this.sessions.has(requestId);
  }

  add(session: Session): void {
    if (session.info.requestId) this.sessions.set(session.info.requestId, session);
  }

  remove(session: Session): void {
    const id = session.info.requestId;
    if (id && this.sessions.get(id) === session) this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }
}
