/** The longest delay Node's setTimeout honours (2^31 − 1 ms, about 24.8 days); it runs a longer one after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A pending setLongTimeout; `clear()` cancels it. */
export interface LongTimer {
  clear(): void;
}

/**
 * Runs `fn` once `ms` have passed, for any delay up to Number.MAX_SAFE_INTEGER: a delay over MAX_TIMER_MS
 * is waited for in steps of at most MAX_TIMER_MS against the monotonic clock, the last step by a plain
 * setTimeout of what is left. Negative or NaN delays run `fn` on the next timer tick.
 */
export function setLongTimeout(fn: () => void, ms: number): LongTimer {
  const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
  const due = performance.now() + delay;
  let timer: NodeJS.Timeout;
  const step = (left: number) => {
    timer = left > MAX_TIMER_MS ? setTimeout(() => step(due - performance.now()), MAX_TIMER_MS) : setTimeout(fn, left);
  };
  step(delay);
  return { clear: () => clearTimeout(timer) };
}
