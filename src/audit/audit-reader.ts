import { open } from 'node:fs/promises';
import type { StoredAuditEvent } from './audit-event';
import { matchesAudit, type AuditFilter } from './audit-filter';
import type { AuditTrail } from './audit-trail';

/** Bytes read from a segment at a time. */
const READ_BYTES = 1024 * 1024;

/** What a reader of the trail gets: matching events in order, `caught_up` once after the held ones. */
export type AuditItem = StoredAuditEvent | 'caught_up';

export interface AuditReadOptions {
  /** Start after this seq (an event id a client already saw); undefined = from the oldest held. */
  afterSeq?: number;
  /** Go on with live events after `caught_up`, until `signal` aborts. */
  follow: boolean;
  signal: AbortSignal;
}

/**
 * The trail's events that match `filter`, oldest first: those held now (read from the segments, from
 * the one holding the start), then `caught_up`, then with `follow` each new one as it is written (from
 * memory, or from the segments for a reader that fell behind). Events removed by retention meanwhile
 * are skipped. Ends when `signal` aborts, or once past `filter.untilMs`.
 */
export async function* readAuditTrail(trail: AuditTrail, filter: AuditFilter, options: AuditReadOptions): AsyncGenerator<AuditItem> {
  let next = (options.afterSeq ?? 0) + 1;
  const held = trail.headSeq;
  const past = (e: StoredAuditEvent) => filter.untilMs !== undefined && Date.parse(e.time) >= filter.untilMs;
  for await (const e of segmentEvents(trail, next, held, filter.sinceMs, options.signal)) {
    next = e.seq + 1;
    if (past(e)) return;
    if (matchesAudit(e, filter)) yield e;
  }
  next = Math.max(next, held + 1);
  yield 'caught_up';
  if (!options.follow) return;
  while (!options.signal.aborted) {
    while (next <= trail.headSeq && !options.signal.aborted) {
      const recent = trail.recent(next);
      const batch = recent ? [recent] : segmentEvents(trail, next, trail.headSeq, undefined, options.signal);
      for await (const e of batch) {
        next = e.seq + 1;
        if (past(e)) return;
        if (matchesAudit(e, filter)) yield e;
      }
      if (!recent) next = Math.max(next, trail.headSeq + 1); // what the segments no longer hold is gone
    }
    await trail.waitForEvent(next - 1, options.signal);
  }
}

/** Events with seq from..to, read from the segments that hold them (from the one with `sinceMs`, if later). */
async function* segmentEvents(trail: AuditTrail, from: number, to: number, sinceMs: number | undefined, signal: AbortSignal): AsyncGenerator<StoredAuditEvent> {
  let next = from;
  while (next <= to && !signal.aborted) {
    const segments = trail.segmentList;
    let i = segments.findLastIndex((s) => s.firstSeq <= next);
    if (i < 0) i = 0;
    if (sinceMs !== undefined) {
      // Segments that end before `since` (the next one begins before it) hold nothing to send.
      while (i + 1 < segments.length && (segments[i + 1].firstMs ?? Infinity) <= sinceMs) i++;
    }
    const segment = segments[i];
    if (!segment) return;
    let advanced = false;
    for await (const e of eventsOf(trail.segmentPath(segment.name), signal)) {
      if (e.seq < next) continue;
      if (e.seq > to) return;
      advanced = true;
      next = e.seq + 1;
      yield e;
    }
    const following = trail.segmentList[trail.segmentList.findIndex((s) => s.name === segment.name) + 1];
    if (!following) return; // the segment being written holds nothing more yet
    if (!advanced || next < following.firstSeq) next = following.firstSeq;
  }
}

/** The whole lines of one segment file (up to its zero-filled end), parsed; none when it is gone. */
async function* eventsOf(path: string, signal: AbortSignal): AsyncGenerator<StoredAuditEvent> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return; // removed by retention
  }
  try {
    const buf = Buffer.allocUnsafe(READ_BYTES);
    let carry = Buffer.alloc(0);
    let position = 0;
    while (!signal.aborted) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, position);
      if (!bytesRead) return;
      position += bytesRead;
      let chunk = Buffer.concat([carry, buf.subarray(0, bytesRead)]);
      const nul = chunk.indexOf(0);
      if (nul >= 0) chunk = chunk.subarray(0, nul);
      let start = 0;
      for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
        const line = chunk.subarray(start, nl).toString('utf8');
        start = nl + 1;
        const event = parsed(line);
        if (event) yield event;
      }
      if (nul >= 0) return; // the unwritten end of the segment
      carry = Buffer.from(chunk.subarray(start));
    }
  } finally {
    await handle.close();
  }
}

function parsed(line: string): StoredAuditEvent | undefined {
  try {
    const e = JSON.parse(line) as StoredAuditEvent;
    return typeof e.seq === 'number' ? e : undefined;
  } catch {
    return undefined; // a damaged line: `audit verify` names it
  }
}
