import { ExecError } from '../../common/errors';

/** How fast a copy's client must go (EXEC_COPY_STALL_MS, EXEC_COPY_MIN_BYTES_PER_SECOND, EXEC_COPY_MAX_MS). */
export interface CopyPace {
  windowMs: number;
  minBytesPerSecond: number;
  maxMs: number;
}

/**
 * A copy's progress in bytes over time. Docker holds the container's lock while a copy runs, so a client
 * may not hold it by moving almost nothing: over each window (checked by the caller every `windowMs`) in
 * which the copy waited on its client for at least half the time, the client must have moved
 * `minBytesPerSecond` per second of that waiting (at least one byte); and no copy runs past `maxMs`.
 * Time the copy waits on Docker is not the client's.
 */
export class CopyProgress {
  private readonly startedAt: number;
  private windowBytes = 0;
  private waitedMs = 0;
  private waitingSince?: number;

  constructor(
    private readonly what: 'CopyTo' | 'CopyFrom',
    private readonly pace: CopyPace,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.startedAt = now();
  }

  /** The client moved `bytes` (CopyTo: sent them; CopyFrom: was given them). */
  moved(bytes: number): void {
    this.windowBytes += bytes;
  }

  /** Whether the copy now waits on its client (CopyTo: for bytes; CopyFrom: for it to take them). */
  waitingOnClient(waiting: boolean): void {
    const t = this.now();
    if (waiting) this.waitingSince ??= t;
    else if (this.waitingSince !== undefined) {
      this.waitedMs += t - this.waitingSince;
      this.waitingSince = undefined;
    }
  }

  /** At the end of each window: why the copy must end (ABORTED naming the setting), or undefined; starts the next window. */
  check(): ExecError | undefined {
    const t = this.now();
    if (t - this.startedAt >= this.pace.maxMs) {
      return new ExecError('aborted', `${this.what} ran for ${this.pace.maxMs} ms, the most a copy may hold its container (EXEC_COPY_MAX_MS): it was ended`);
    }
    const waited = this.waitedMs + (this.waitingSince !== undefined ? t - this.waitingSince : 0);
    const bytes = this.windowBytes;
    this.windowBytes = 0;
    this.waitedMs = 0;
    if (this.waitingSince !== undefined) this.waitingSince = t;
    const needed = Math.max(1, Math.ceil((this.pace.minBytesPerSecond * waited) / 1000));
    if (waited < this.pace.windowMs / 2 || bytes >= needed) return undefined;
    const verb = this.what === 'CopyTo' ? 'sent' : 'took';
    return new ExecError(
      'aborted',
      `${this.what}'s client ${verb} ${bytes} bytes in ${Math.round(waited)} ms of waiting on it, less than ${this.pace.minBytesPerSecond} bytes/s ` +
        `(EXEC_COPY_MIN_BYTES_PER_SECOND, over EXEC_COPY_STALL_MS=${this.pace.windowMs}): the copy was ended, as Docker holds the container's lock while it runs`,
    );
  }
}
