/**
 * Unix times in nanoseconds, as the wire carries them (int64 as bigint, or as its decimal string).
 * Milliseconds are rounded to whole ms first: a fraction would not make a bigint.
 */

/** `ms` since the epoch (Date.now(), Date.parse()) → Unix ns. */
export function msToNs(ms: number): bigint {
  return BigInt(Math.round(ms)) * 1_000_000n;
}

/** Now, in Unix ns (millisecond resolution: Date.now()); lifecycle events, samples, wire times. */
export function nowNs(): bigint {
  return msToNs(Date.now());
}

/** Unix ns (bigint, or the wire's decimal string) → ms since the epoch, truncated. */
export function nsToMs(ns: bigint | string): number {
  return Number(BigInt(ns) / 1_000_000n);
}

const PRECISE_BASE = msToNs(Date.now()) - process.hrtime.bigint();

/**
 * Now, in Unix ns at sub-millisecond resolution: the wall clock read once at start, the monotonic clock
 * after (never goes back; may drift from the wall clock by what NTP corrects meanwhile). Output chunks
 * and resize records are stamped with it, so one session's times never go back.
 */
export function preciseNowNs(): bigint {
  return PRECISE_BASE + process.hrtime.bigint();
}
