import type { StreamName } from '../../common/streams';
import { crc32 } from 'node:zlib';

/**
 * Checks a session's index against its stream files when a data dir is loaded after a restart. Pure
 * (buffers and sizes in, a report out) so that every way a file can be damaged is unit-tested.
 *
 * What counts as damage, and what is done about it:
 *  - a torn last record (index size not a multiple of 32): the partial record is dropped. This is what
 *    a crash between two writes leaves; the bytes it described are recovered from Docker, or lost.
 *  - a record whose own crc fails, names no stream, or is not contiguous with the previous record of
 *    its stream: that chunk is missing.
 *  - a record whose bytes lie beyond the end of its stream file (the file was truncated): missing.
 *  - (data crcs are checked on every read, SessionFiles.readChunk: a mismatch is DATA_LOSS for that read.)
 * Missing chunks keep their sequence numbers; readers are told how many they skip (gap_before).
 */
export const RECORD_BYTES = 32;
export const STREAM_CODE: Record<StreamName, number> = { stdout: 1, stderr: 2 };
export const CODE_STREAM: Record<number, StreamName | undefined> = { 1: 'stdout', 2: 'stderr' };

export interface IndexEntry {
  stream: StreamName;
  length: number;
  offset: number;
  timestampNs: bigint;
  dataCrc: number;
}

export interface IndexReport {
  /** Chunks in the index (whole records, good or bad): the session's last sequence. */
  count: number;
  /** Sequences whose record or data is unusable. */
  missing: number[];
  /** Per stream: the end of the last good record, i.e. how many bytes of it the record holds. */
  recorded: Record<StreamName, number>;
  /** Good entries by sequence (undefined where missing). */
  entries: Array<IndexEntry | undefined>;
  /** Bytes of a torn record at the end of the index (dropped). */
  tornBytes: number;
  /** Bytes in the stream files past the last good record (written, never indexed: cut off on open). */
  unindexedBytes: number;
  /** One human-readable line per problem found. */
  problems: string[];
}

/** Encodes one index record (the writer's format; also used by tests to build damaged files). */
export function encodeRecord(out: Buffer, stream: StreamName, data: Buffer | { length: number; crc: number }, offset: number, timestampNs: bigint): Buffer {
  out.fill(0, 0, 4);
  out[0] = STREAM_CODE[stream];
  out.writeUInt32LE(data.length, 4);
  out.writeBigUInt64LE(BigInt(offset), 8);
  out.writeBigInt64LE(timestampNs, 16);
  out.writeUInt32LE(Buffer.isBuffer(data) ? crc32(data) : data.crc, 24);
  out.writeUInt32LE(crc32(out.subarray(0, 28)), 28);
  return out;
}

/** Decodes record at `pos`; a string says why it is unusable. */
export function decodeRecord(index: Buffer, pos: number): IndexEntry | string {
  const rec = index.subarray(pos, pos + RECORD_BYTES);
  if (rec.readUInt32LE(28) !== crc32(rec.subarray(0, 28))) return 'record checksum mismatch';
  const stream = CODE_STREAM[rec[0]];
  if (!stream) return `unknown stream code ${rec[0]}`;
  const offset = rec.readBigUInt64LE(8);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) return 'offset out of range';
  return { stream, length: rec.readUInt32LE(4), offset: Number(offset), timestampNs: rec.readBigInt64LE(16), dataCrc: rec.readUInt32LE(24) };
}

export function verifyIndex(index: Buffer, fileSizes: Record<StreamName, number>): IndexReport {
  const count = Math.floor(index.length / RECORD_BYTES);
  const tornBytes = index.length - count * RECORD_BYTES;
  const report: IndexReport = { count, missing: [], recorded: { stdout: 0, stderr: 0 }, entries: [], tornBytes, unindexedBytes: 0, problems: [] };
  if (tornBytes) report.problems.push(`index ends with a torn record (${tornBytes} bytes), dropped`);
  const bad = (sequence: number, why: string) => {
    report.missing.push(sequence);
    report.entries.push(undefined);
    report.problems.push(`chunk ${sequence}: ${why}`);
  };
  for (let i = 0; i < count; i++) {
    const sequence = i + 1;
    const e = decodeRecord(index, i * RECORD_BYTES);
    if (typeof e === 'string') {
      bad(sequence, e);
      continue;
    }
    // A good record must start where the last good one of its stream ended, or later when records in
    // between were lost (their bytes are then unaccounted for, but never re-used).
    if (e.offset < report.recorded[e.stream]) {
      bad(sequence, `${e.stream} offset ${e.offset} overlaps earlier output (ends at ${report.recorded[e.stream]})`);
      continue;
    }
    if (e.offset + e.length > fileSizes[e.stream]) {
      bad(sequence, `${e.stream} bytes ${e.offset}..${e.offset + e.length} lie beyond the file's end (${fileSizes[e.stream]} bytes: truncated)`);
      continue;
    }
    report.recorded[e.stream] = e.offset + e.length;
    report.entries.push(e);
  }
  return report;
}

/**
 * Given the missing sequences (sorted), the first sequence ≥ `from` that exists, or last + 1.
 * `gap` is how many requested chunks were skipped: what a reader reports as gap_before.
 */
export function nextAvailable(missing: readonly number[], from: number, last: number): { sequence: number; gap: number } {
  let s = from;
  // missing is sorted; a binary search finds the first entry ≥ from, then walk the run.
  let lo = 0;
  let hi = missing.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (missing[mid] < from) lo = mid + 1;
    else hi = mid;
  }
  while (lo < missing.length && missing[lo] === s && s <= last) {
    s++;
    lo++;
  }
  return { sequence: s, gap: s - from };
}
