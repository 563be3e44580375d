import type { OutputSink, StreamName } from '../../common/streams';

/** Largest chunk made by joining: stays well under gRPC's default 4 MiB message limit of clients. */
export const MAX_CHUNK_BYTES = 512 * 1024;

/**
 * Joins the output that arrives within one turn of the event loop into one chunk per stream run: each
 * chunk costs fixed work downstream (docs/BENCHMARKS.md "What the profile showed", change 4). A slow
 * writer is not delayed: its bytes are flushed at the end of the same turn (setImmediate), before any timer.
 */
export class CoalescingSink implements OutputSink {
  private stream?: StreamName;
  private parts: Buffer[] = [];
  private bytes = 0;
  private scheduled?: NodeJS.Immediate;

  constructor(private readonly target: OutputSink) {}

  write(stream: StreamName, data: Buffer): void {
    if (!data.length) return;
    if (this.stream !== stream) this.flush();
    this.stream = stream;
    this.parts.push(data);
    this.bytes += data.length;
    this.maybeFlush();
  }

  /** Pieces of one stream run (the demuxer's frames of one socket read): held as they are, not joined. */
  writeParts(stream: StreamName, parts: readonly Buffer[], bytes: number): void {
    if (!bytes) return;
    if (this.stream !== stream) this.flush();
    this.stream = stream;
    for (const p of parts) if (p.length) this.parts.push(p);
    this.bytes += bytes;
    this.maybeFlush();
  }

  private maybeFlush(): void {
    if (this.bytes >= MAX_CHUNK_BYTES) this.flush();
    else this.scheduled ??= setImmediate(() => this.flushScheduled());
  }

  /** Writes what is held to the target now (also called when the stream ends). Throws what the target throws. */
  flush(): void {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    if (!this.bytes || !this.stream) return;
    const { parts, bytes, stream } = this;
    this.parts = [];
    this.bytes = 0;
    this.stream = undefined;
    // A target that takes pieces makes its one copy itself (into the wire message): no join copy here.
    if (parts.length === 1) this.target.write(stream, parts[0]);
    else if (this.target.writeParts) this.target.writeParts(stream, parts, bytes);
    else this.target.write(stream, Buffer.concat(parts, bytes));
  }

  /** A failure of a flush that no caller waits on is kept and rethrown to the next caller. */
  private pendingError?: unknown;

  private flushScheduled(): void {
    this.scheduled = undefined;
    try {
      this.flush();
    } catch (err) {
      this.pendingError = err;
      this.onError?.(err);
    }
  }

  /** Told when a deferred flush failed (the recorder failed): the pump ends the session with it. */
  onError?: (err: unknown) => void;

  get failed(): unknown {
    return this.pendingError;
  }
}
