import { sleep } from './sleep';

describe('sleep', () => {
  afterEach(() => jest.useRealTimers());

  it('resolves once its time has passed, under fake timers too', async () => {
    jest.useFakeTimers();
    let done = false;
    const p = sleep(1000).then(() => (done = true));
    await jest.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await p;
    expect(done).toBe(true);
  });

  it('an unref wait does not hold the process (its timer is unref)', async () => {
    const spy = jest.spyOn(global, 'setTimeout');
    await sleep(1, { unref: true });
    const timer = spy.mock.results[0].value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    spy.mockRestore();
  });
});
