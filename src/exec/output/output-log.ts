import type { StreamName } from '../../common/streams';
import type { StreamTally } from '../../common/reporting';
import type { PrimaryRecorder } from './tee-writer';
import { ChunkWindow, ReadCache } from './chunk-window';
import type { TailBudget, TailShare } from './tail-budget';
import { encodePlainParts, plainMessageFor } from './session-response-encoder';
import type { ChunkBuffers, ChunkRecord, SessionFiles } from './session-files';
import { preciseNowNs } from '../../common/time';

/** Chunks read back from disk land in their plain wire message: plain clients send it without a copy. */
const intoPlainMessage: ChunkBuffers = (stream, length) => {
  const plainMessage = plainMessageFor(stream, length);
  return { data: plainMessage.subarray(plainMessage.length - length), plainMessage };
};

/**
 * The session's append-only, sequenced output: every chunk goes to the files (the record) and to a
 * bounded in-memory tail of the newest chunks. Readers (client cursors) ask for chunk n: from the tail
 * when it is still there, else from disk through a shared cache of recent reads (both bounded by
 * the session's share of the TailBudget: EXEC_TAIL_BYTES at most; a chunk also keeps its wire encoding, made once for all clients). Waiting readers are woken by notify(), which the TeeWriter
 * calls as its secondary, after the record is written.
 */
export class OutputLog implements PrimaryRecorder {
  private tail: ChunkWindow;
  private readBack: ReadCache;
  private readonly share: TailShare;
  private waiters = new Set<() => void>();
  private ended = false;

  constructor(
    private readonly files: SessionFiles,
    budget: TailBudget,
  ) {
    this.share = budget.acquire();
    this.tail = new ChunkWindow(this.share.limit);
    this.readBack = new ReadCache(this.share.limit);
  }

  /** Sequence of the newest chunk; 0 before the first. */
  get lastSequence(): number {
    return this.files.chunkCount;
  }

  /** No chunk will be appended any more. */
  get finished(): boolean {
    return this.ended;
  }

  get bytes(): Record<StreamName, number> {
    return this.files.bytes;
  }

  /** Counts the output sent to this log's readers (metrics on; set by assembleSession). */
  sentTally?: StreamTally;

  /** Chunk `sequence` is still in the in-memory tail (a reader of it does not read from disk). */
  inTail(sequence: number): boolean {
    return this.tail.get(sequence) !== undefined;
  }

  /** Told when a chunk could not be recorded (before the error goes on to the caller). */
  onRecordFailed?: (err: unknown) => void;

  /** The most output (both streams) recorded; what comes past it is dropped, and onLimitReached told once. */
  limitBytes = Number.POSITIVE_INFINITY;
  /** Told once, when output first would pass limitBytes. */
  onLimitReached?: () => void;
  /** Output bytes not recorded because they came past limitBytes. */
  droppedBytes = 0;

  /** Output came past limitBytes: nothing more is recorded. */
  get overLimit(): boolean {
    return this.droppedBytes > 0;
  }

  record(stream: StreamName, data: Buffer, plainMessage?: Buffer): void {
    const recorded = this.files.totalBytes;
    if (this.overLimit || recorded + data.length > this.limitBytes) {
      // Recorded exactly up to the limit: the chunk that passes it is cut there, later ones dropped.
      const room = this.overLimit ? 0 : Math.max(0, this.limitBytes - recorded);
      const first = !this.overLimit;
      this.droppedBytes += data.length - room;
      if (room > 0) this.append(stream, data.subarray(0, room));
      if (first) this.onLimitReached?.();
      return;
    }
    this.append(stream, data, plainMessage);
  }

  private append(stream: StreamName, data: Buffer, plainMessage?: Buffer): void {
    const timestampNs = preciseNowNs();
    let sequence: number;
    try {
      sequence = this.files.append(stream, data, timestampNs);
    } catch (err) {
      this.onRecordFailed?.(err);
      throw err;
    }
    this.tail.push({ sequence, stream, timestampNs, data, plainMessage });
  }

  /**
   * One chunk given in pieces: they are copied once, straight into its plain wire message, and the
   * chunk's data is the tail of that message (no separate join copy; plain clients send it as is).
   */
  recordParts(stream: StreamName, parts: readonly Buffer[], bytes: number): void {
    const message = encodePlainParts(stream, parts, bytes);
    this.record(stream, message.subarray(message.length - bytes), message);
  }

  /** Chunk `sequence` (1 ≤ sequence ≤ lastSequence). */
  get(sequence: number): ChunkRecord | Promise<ChunkRecord> {
    return this.tail.get(sequence) ?? this.readBack.get(sequence, (n) => this.files.readChunk(n, intoPlainMessage));
  }

  /**
   * The first readable chunk ≥ `from` and how many damaged or lost chunks lie before it: a reader
   * skips those and reports the count (gap_before); it never gets their bytes.
   */
  nextAvailable(from: number): { sequence: number; gap: number } {
    return this.files.nextAvailable(from);
  }

  /** A chunk failed its checksum on read: from now on every reader skips it as a gap. */
  markMissing(sequence: number): void {
    this.files.markMissing(sequence);
  }

  /** Calls `wake` once chunk `sequence` exists or the log is finished; returns a cancel function. */
  waitFor(sequence: number, wake: () => void): () => void {
    if (sequence <= this.lastSequence || this.ended) {
      wake();
      return () => undefined;
    }
    this.waiters.add(wake);
    return () => this.waiters.delete(wake);
  }

  /** Wake every waiting reader (called after each recorded chunk and at the end). */
  notify(): void {
    if (!this.waiters.size) return;
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const w of waiters) w();
  }

  /**
   * Drops the in-memory tail and read-back cache (a finished session nobody reads): a later client is
   * served from disk. Without this every finished session would hold them for its whole retention.
   */
  releaseMemory(): void {
    this.share.release();
    this.tail = new ChunkWindow(this.share.limit);
    this.readBack = new ReadCache(this.share.limit);
  }

  /** No more chunks: readers are woken, and the files close once no reader holds them. */
  finish(): void {
    this.ended = true;
    this.files.endRecording();
    this.notify();
  }
}
