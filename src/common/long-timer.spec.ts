import { MAX_TIMER_MS, setLongTimeout } from './long-timer';

describe('setLongTimeout', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it.each([0, 1, 1000, MAX_TIMER_MS, MAX_TIMER_MS + 1, 2 ** 32, 600 * 3_600_000, 3 * MAX_TIMER_MS + 7])('runs after exactly %d ms, not before', (ms) => {
    const fn = jest.fn();
    setLongTimeout(fn, ms);
    if (ms > 0) jest.advanceTimersByTime(ms - 1);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(4 * MAX_TIMER_MS);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('a long delay arms one timer per 2^31-1 ms, never a 1 ms one', () => {
    const armed = jest.spyOn(global, 'setTimeout');
    setLongTimeout(() => undefined, 5 * MAX_TIMER_MS);
    jest.advanceTimersByTime(5 * MAX_TIMER_MS);
    expect(armed.mock.calls.map(([, ms]) => ms)).toEqual([MAX_TIMER_MS, MAX_TIMER_MS, MAX_TIMER_MS, MAX_TIMER_MS, MAX_TIMER_MS]);
    armed.mockRestore();
  });

  it('clear() cancels it, in the first step or a later one', () => {
    const fn = jest.fn();
    setLongTimeout(fn, 10).clear();
    const long = setLongTimeout(fn, 3 * MAX_TIMER_MS);
    jest.advanceTimersByTime(2 * MAX_TIMER_MS + 5);
    long.clear();
    jest.advanceTimersByTime(4 * MAX_TIMER_MS);
    expect(fn).not.toHaveBeenCalled();
  });

  it('a negative or NaN delay runs on the next tick', () => {
    const fn = jest.fn();
    setLongTimeout(fn, -5);
    setLongTimeout(fn, NaN);
    jest.advanceTimersByTime(0);
    expect(fn).toHaveBeenCalledTimes(2);
  });
});
