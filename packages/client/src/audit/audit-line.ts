import { createHash } from 'node:crypto';

/** The `prev_hash` of the first event of a trail (and of the first line of its anchors file). */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** The trail's anchors file (in the trail's folder): the chain's head at each rotation, and each removal. */
export const AUDIT_ANCHORS_FILE = 'anchors.jsonl';

/** A segment file's name: `trail-<seq of its first event, 12 digits>.jsonl`. */
export const AUDIT_SEGMENT_NAME = /^trail-(\d{12})\.jsonl$/;

export function auditSegmentName(firstSeq: number): string {
  return `trail-${String(firstSeq).padStart(12, '0')}.jsonl`;
}

/** What a log shipper's copy of an event line starts with (the service's own log lines never have `type`). */
export const AUDIT_SHIPPED_PREFIX = '{"type":"audit",';

const HASH_TAIL = /,"hash":"([0-9a-f]{64})"\}$/;

/**
 * Seals one stored line: `body` is the JSON object of the event without its hash (it holds `prev_hash`);
 * the line is that object with `"hash": sha256(body)` as its last field. The hash covers the exact bytes
 * of the line, so no canonical form of JSON is needed to check it.
 */
export function sealAuditLine(body: string): { line: string; hash: string } {
  if (!body.startsWith('{') || !body.endsWith('}') || body === '{}') throw new Error('an audit line is a non-empty JSON object');
  const hash = createHash('sha256').update(body).digest('hex');
  return { line: `${body.slice(0, -1)},"hash":"${hash}"}`, hash };
}

/** A stored line taken apart: the event, the hash it carries, and whether that hash is its content's. */
export interface OpenedAuditLine {
  event: Record<string, unknown>;
  hash: string;
  hashMatches: boolean;
}

/**
 * Opens a stored line (or a shipped copy of one, AUDIT_SHIPPED_PREFIX removed first). Undefined when it
 * is not a sealed line: not JSON, or no `hash` as its last field.
 */
export function openAuditLine(raw: string): OpenedAuditLine | undefined {
  const line = raw.startsWith(AUDIT_SHIPPED_PREFIX) ? `{${raw.slice(AUDIT_SHIPPED_PREFIX.length)}` : raw;
  const m = HASH_TAIL.exec(line);
  if (!m) return undefined;
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return undefined;
  const body = `${line.slice(0, m.index)}}`;
  return { event: event as Record<string, unknown>, hash: m[1], hashMatches: createHash('sha256').update(body).digest('hex') === m[1] };
}
