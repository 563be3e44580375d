/**
 * What the floors of the data path report, and the ports they report through. src/metrics/ implements
 * them (ExecMetrics, bound to the EXEC_METRICS token, or null when metrics are off); the output log,
 * the sessions and the lifecycle bus know only these shapes, not the registry behind them.
 */
import type { StreamName } from './streams';

/**
 * Bytes and chunks per stream as plain numbers: bumped on the hot path (once per chunk, no allocation,
 * no label hashing) and read by the registry only when /metrics is scraped.
 */
export class StreamTally {
  readonly bytes: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  readonly chunks: Record<StreamName, number> = { stdout: 0, stderr: 0 };

  add(stream: StreamName, bytes: number): void {
    this.bytes[stream] += bytes;
    this.chunks[stream]++;
  }
}

/** What the sessions look like right now, computed at scrape time by the session manager. */
export interface SessionCensus {
  /** Sessions by state and kind. */
  running: { run: number; exec: number };
  finished: { run: number; exec: number };
  /** Clients attached to any session. */
  clients: number;
  /** Attached clients whose next chunk is no longer in the in-memory tail (they read from disk). */
  behindTail: number;
  /** Bytes of all sessions' files (output, index). */
  diskBytes: number;
}

/** The output path's counts: output recorded (from the container, TeeWriter) and sent (to clients, once per client). */
export interface OutputTallies {
  readonly recorded: StreamTally;
  readonly sent: StreamTally;
}

/** The lifecycle bus's counts: published, repeats dropped by dedupe, events readers lost by falling behind history. */
export interface LifecycleCounts {
  readonly lifecycle: { published: number; deduplicated: number; dropped: number };
}

/** The sessions' reports: the census read at scrape time, retention removals, restart recovery. */
export interface SessionReports {
  observeSessions(census: () => SessionCensus): void;
  retentionRemoved(reason: string): void;
  recovered(outcome: 'loaded' | 'readopted' | 'aborted', count?: number): void;
}
