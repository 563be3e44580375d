import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AUDIT_ANCHORS_FILE, AUDIT_GENESIS_HASH, AUDIT_SEGMENT_NAME, AUDIT_SHIPPED_PREFIX, openAuditLine } from './audit-line';

/** Where a trail stops being what the service wrote: the first such place, in file order. */
export interface AuditBreak {
  /** The file's name (a segment, the anchors file, or the file given). */
  file: string;
  /** 1-based line of the event (or anchor) where the break shows; 0 = the file as a whole. */
  line: number;
  /** The seq of the event on that line, when it has one. */
  seq?: number;
  problem: string;
}

export interface AuditVerification {
  /** Events checked. */
  events: number;
  /** Segment files checked, and segments the anchors say retention removed. */
  segments: number;
  removedSegments: number;
  firstSeq?: number;
  lastSeq?: number;
  /** The hash of the last event checked: the chain's head. */
  head?: string;
  break?: AuditBreak;
}

class Broken extends Error {
  constructor(readonly at: AuditBreak) {
    super(at.problem);
  }
}

interface Expected {
  seq: number;
  hash: string;
}

interface Anchor {
  line: number;
  kind: string;
  segment: string;
  firstSeq: number;
  headHash: string;
}

/**
 * Checks an audit trail and names its first break. `path` is a trail's folder (EXEC_DATA_DIR/audit: the
 * anchors file and its segments, each event chained to the one before it and each segment to its anchor),
 * or one file of event lines (a segment, or a log shipper's copy: lines starting {"type":"audit", among
 * other log lines), whose chain is checked from its first event. An event deleted, added or changed,
 * a segment missing that retention did not remove, or bytes after the last event are a break.
 */
export function verifyAuditTrail(path: string): AuditVerification {
  const result: AuditVerification = { events: 0, segments: 0, removedSegments: 0 };
  try {
    if (statSync(path).isDirectory()) verifyFolder(path, result);
    else verifySegment(basename(path), readFileSync(path), undefined, result, true);
  } catch (err) {
    if (!(err instanceof Broken)) throw err;
    result.break = err.at;
  }
  return result;
}

function verifyFolder(dir: string, result: AuditVerification): void {
  const anchorsFile = join(dir, AUDIT_ANCHORS_FILE);
  if (!existsSync(anchorsFile)) {
    throw new Broken({
      file: AUDIT_ANCHORS_FILE,
      line: 0,
      problem: `no ${AUDIT_ANCHORS_FILE} in ${dir}: not an audit trail's folder, or its anchors were deleted`,
    });
  }
  const { anchors, removed } = readAnchors(readFileSync(anchorsFile, 'utf8'));
  const anchored = new Set(anchors.map((a) => a.segment));
  const files = readdirSync(dir)
    .filter((f) => AUDIT_SEGMENT_NAME.test(f))
    .sort();
  for (const f of files) {
    if (!anchored.has(f))
      throw new Broken({ file: f, line: 0, problem: `segment ${f} is not in ${AUDIT_ANCHORS_FILE}: it was added, or its anchor was deleted` });
  }
  let before: { file: string; lines: number; end: Expected } | undefined;
  for (const a of anchors) {
    const file = join(dir, a.segment);
    if (!existsSync(file)) {
      if (!removed.has(a.segment)) {
        throw new Broken({
          file: a.segment,
          line: 0,
          problem: `segment ${a.segment} (events from seq ${a.firstSeq}) is missing, and ${AUDIT_ANCHORS_FILE} does not say retention removed it`,
        });
      }
      result.removedSegments++;
      before = undefined;
      continue;
    }
    if (before && (before.end.seq !== a.firstSeq || before.end.hash !== a.headHash)) {
      throw new Broken({
        file: before.file,
        line: before.lines + 1,
        problem:
          `segment ${a.segment} follows seq ${a.firstSeq - 1} (${short(a.headHash)}), but ${before.file} ends at seq ${before.end.seq - 1} ` +
          `(${short(before.end.hash)}): its last event(s) were deleted or changed`,
      });
    }
    const { end, lines } = verifySegment(a.segment, readFileSync(file), { seq: a.firstSeq, hash: a.headHash }, result, false);
    before = { file: a.segment, lines, end };
  }
}

/** The anchors file's chained lines: segments in order, and the names retention removed. */
function readAnchors(text: string): { anchors: Anchor[]; removed: Set<string> } {
  const anchors: Anchor[] = [];
  const removed = new Set<string>();
  let expected: Expected = { seq: 1, hash: AUDIT_GENESIS_HASH };
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') throw new Broken({ file: AUDIT_ANCHORS_FILE, line: lines.length, problem: 'its last line is incomplete' });
  lines.pop();
  lines.forEach((raw, i) => {
    const at = { file: AUDIT_ANCHORS_FILE, line: i + 1 };
    const opened = openAuditLine(raw);
    if (!opened) throw new Broken({ ...at, problem: 'not a sealed anchor line (JSON ending with its hash)' });
    const e = opened.event;
    if (!opened.hashMatches) throw new Broken({ ...at, problem: `anchor ${String(e.seq)} was changed: its hash does not match its content` });
    if (e.seq !== expected.seq || e.prev_hash !== expected.hash) {
      throw new Broken({ ...at, problem: `anchor ${String(e.seq)} does not follow anchor ${expected.seq - 1}: an anchor was deleted or changed` });
    }
    expected = { seq: expected.seq + 1, hash: opened.hash };
    if (e.kind === 'segment' && typeof e.segment === 'string' && typeof e.first_seq === 'number' && typeof e.head_hash === 'string') {
      anchors.push({ line: i + 1, kind: 'segment', segment: e.segment, firstSeq: e.first_seq, headHash: e.head_hash });
    } else if (e.kind === 'removed' && typeof e.segment === 'string') {
      if (!anchors.some((a) => a.segment === e.segment)) throw new Broken({ ...at, problem: `removal of ${e.segment}, which no anchor names` });
      removed.add(e.segment);
    } else throw new Broken({ ...at, problem: `anchor of unknown kind ${JSON.stringify(e.kind)}` });
  });
  return { anchors, removed };
}

/**
 * One file of events: every line sealed, each seq the one after the last, each prev_hash the hash of the
 * event before it; `start` is what the first must continue (from its anchor), or, for a lone file
 * (`loose`: other log lines may be mixed in), whatever its first event says.
 */
function verifySegment(name: string, bytes: Buffer, start: Expected | undefined, result: AuditVerification, loose: boolean): { end: Expected; lines: number } {
  const nul = bytes.indexOf(0);
  const used = nul < 0 ? bytes.length : nul;
  if (nul >= 0 && bytes.subarray(nul).some((b) => b !== 0)) {
    throw new Broken({ file: name, line: 0, problem: `bytes after the unused (zeroed) end of the segment, at byte ${nul}: written there by something else` });
  }
  const text = bytes.subarray(0, used).toString('utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') throw new Broken({ file: name, line: lines.length, problem: 'its last line is incomplete (a torn or cut write)' });
  lines.pop();
  let expected = start;
  lines.forEach((raw, i) => {
    if (loose && !raw.startsWith(AUDIT_SHIPPED_PREFIX) && !raw.startsWith('{"seq":')) return; // another log line
    const at = { file: name, line: i + 1 };
    const opened = openAuditLine(raw);
    if (!opened) throw new Broken({ ...at, problem: 'not a sealed audit event (JSON ending with its hash)' });
    const seq = opened.event.seq;
    const prev = opened.event.prev_hash;
    if (typeof seq !== 'number' || typeof prev !== 'string') throw new Broken({ ...at, problem: 'an event without seq or prev_hash' });
    if (!opened.hashMatches) throw new Broken({ ...at, seq, problem: `event seq ${seq} was changed: its hash does not match its content` });
    expected ??= { seq, hash: prev };
    if (seq > expected.seq) {
      const missing = seq - 1 === expected.seq ? `seq ${expected.seq} is` : `seq ${expected.seq}..${seq - 1} are`;
      throw new Broken({ ...at, seq, problem: `event seq ${seq} follows seq ${expected.seq - 1}: event ${missing} missing (deleted)` });
    }
    if (seq !== expected.seq) throw new Broken({ ...at, seq, problem: `event seq ${seq} where seq ${expected.seq} was due: events were added or reordered` });
    if (prev !== expected.hash) {
      throw new Broken({
        ...at,
        seq,
        problem: `event seq ${seq}'s prev_hash is not the hash of the event before it: event seq ${seq - 1} was changed or replaced`,
      });
    }
    result.firstSeq ??= seq;
    result.lastSeq = seq;
    result.head = opened.hash;
    result.events++;
    expected = { seq: seq + 1, hash: opened.hash };
  });
  result.segments++;
  return { end: expected ?? { seq: 1, hash: AUDIT_GENESIS_HASH }, lines: lines.length };
}

const short = (hash: string) => `${hash.slice(0, 12)}…`;
