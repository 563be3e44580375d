/**
 * The shapes output has on its way down the data path, shared by the floors it crosses: the executor
 * (a backend writes into an OutputSink), the output log (its TeeWriter is one) and the wire encoders.
 */

/** One of a process's two output streams. */
export type StreamName = 'stdout' | 'stderr';

/** Where a process's output goes, chunk by chunk, in the order the engine gave it. */
export interface OutputSink {
  write(stream: StreamName, data: Buffer): void;
  /**
   * Optional: the same as write(stream, Buffer.concat(parts, bytes)), for a sink that can use the
   * pieces without that join copy (one copy per byte on the hot path). `parts` is not kept by the caller.
   */
  writeParts?(stream: StreamName, parts: readonly Buffer[], bytes: number): void;
}
