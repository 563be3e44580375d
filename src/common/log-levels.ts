import { status } from '@grpc/grpc-js';
import type { Logger } from './logger';

/** A gRPC status code by its name (`NOT_FOUND`): the one form of `code` on every log line. */
export function statusName(code: number | undefined): string {
  return (code !== undefined && status[code]) || String(code);
}

/** Codes that say the service failed, not the caller: their calls end at level error. */
const SERVER_FAULTS: ReadonlySet<status> = new Set([status.UNKNOWN, status.INTERNAL, status.DATA_LOSS, status.UNAVAILABLE]);

/**
 * The level a call's end is logged at: info when it did its job (OK) or its client left (CANCELLED),
 * error for a server fault (SERVER_FAULTS), warn for the rest: the caller's mistakes, refusals and limits.
 */
export function levelOfStatus(code: status): 'info' | 'warn' | 'error' {
  if (code === status.OK || code === status.CANCELLED) return 'info';
  return SERVER_FAULTS.has(code) ? 'error' : 'warn';
}

/**
 * At most `lines` log lines per `windowMs` for each key (a bounded set of kinds of line, e.g. refused
 * calls): a flood of bad calls cannot flood the log. What goes over is counted, and one line at the end
 * of the window says how many were left out.
 */
export class LogRateLimit {
  private readonly windows = new Map<string, { start: number; lines: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    readonly lines = 20,
    readonly windowMs = 10_000,
  ) {}

  /** True when a line of `key` may be written now; else it is counted as suppressed. */
  allow(key: string, level: 'warn' | 'error'): boolean {
    const now = Date.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) this.windows.set(key, (w = { start: now, lines: 0, suppressed: 0 }));
    if (w.lines < this.lines) {
      w.lines++;
      return true;
    }
    if (w.suppressed++ === 0) {
      const window = w;
      setTimeout(
        () => this.log[level]({ lines: key, suppressed: window.suppressed, windowMs: this.windowMs }, 'log lines suppressed (rate limit)'),
        window.start + this.windowMs - now,
      ).unref();
    }
    return false;
  }
}
