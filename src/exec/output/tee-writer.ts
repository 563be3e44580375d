import type { OutputTallies, StreamTally } from '../../common/reporting';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { EXEC_METRICS } from '../../common/tokens';
import type { OutputSink, StreamName } from '../../common/streams';

/** The record of output: appending must succeed or the session fails (a real error, not a skip). */
export interface PrimaryRecorder {
  record(stream: StreamName, data: Buffer): void;
  /** Optional: record(stream, Buffer.concat(parts, bytes)) with the recorder making the one copy. */
  recordParts?(stream: StreamName, parts: readonly Buffer[], bytes: number): void;
}

/** Told after each recorded chunk; must not block, and its failure must not touch the record. */
export interface SecondaryListener {
  onRecorded(): void;
}

export interface TeeWriterLog {
  warn(obj: object, msg: string): void;
}

/**
 * Writes every chunk to the session's files first (always, synchronously, so the order on disk is
 * the order Docker gave), and tells live readers second. A listener that throws is dropped with a log
 * line; it never fails the primary and never sees the chunk before the file has it.
 */
export class TeeWriter implements OutputSink {
  private readonly listeners = new Set<SecondaryListener>();

  constructor(
    private readonly primary: PrimaryRecorder,
    private readonly log?: TeeWriterLog,
    /** Counts each recorded chunk (metrics on). */
    private readonly tally?: StreamTally,
  ) {}

  addListener(listener: SecondaryListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  write(stream: StreamName, data: Buffer): void {
    this.primary.record(stream, data);
    this.recorded(stream, data.length);
  }

  /** One chunk given in pieces (see OutputSink.writeParts): recorded as one chunk, like write(). */
  writeParts(stream: StreamName, parts: readonly Buffer[], bytes: number): void {
    if (this.primary.recordParts) this.primary.recordParts(stream, parts, bytes);
    else this.primary.record(stream, Buffer.concat(parts, bytes));
    this.recorded(stream, bytes);
  }

  private recorded(stream: StreamName, bytes: number): void {
    this.tally?.add(stream, bytes);
    for (const listener of this.listeners) {
      try {
        listener.onRecorded();
      } catch (err) {
        this.listeners.delete(listener);
        this.log?.warn({ err }, 'output listener failed; dropped it');
      }
    }
  }
}

/**
 * The provider: sessions get their TeeWriter from DI rather than constructing the policy themselves.
 * With metrics on it also carries the tallies of output recorded and sent (docs/METRICS.md).
 */
@Injectable()
export class TeeWriterFactory {
  /** Output sent to clients, counted by the client cursors (undefined: metrics off). */
  readonly sent?: StreamTally;
  private readonly recorded?: StreamTally;

  constructor(@Optional() @Inject(EXEC_METRICS) metrics?: OutputTallies | null) {
    this.recorded = metrics?.recorded;
    this.sent = metrics?.sent;
  }

  create(primary: PrimaryRecorder, log?: TeeWriterLog): TeeWriter {
    return new TeeWriter(primary, log, this.recorded);
  }
}
