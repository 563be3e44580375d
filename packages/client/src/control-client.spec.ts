import { EventEmitter } from 'node:events';
import type { ClientReadableStream } from '@grpc/grpc-js';
import { LifecycleSubscription } from './control-client';
import type { ContainerLifecycleEvent__Output } from './gen';

describe('LifecycleSubscription.next', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('waits out a timeout over 2^31-1 ms without re-arming a timer every millisecond', async () => {
    const call = new EventEmitter() as unknown as ClientReadableStream<ContainerLifecycleEvent__Output>;
    const sub = new LifecycleSubscription(call);
    const armed = jest.spyOn(global, 'setTimeout');
    let settled = false;
    const next = sub.next(2 ** 31 + 10_000).then((e) => ((settled = true), e));
    await jest.advanceTimersByTimeAsync(1000);
    expect(settled).toBe(false);
    expect(armed.mock.calls.length).toBeLessThanOrEqual(1);
    await jest.advanceTimersByTimeAsync(2 ** 31 + 9_000);
    expect(await next).toBeUndefined();
    armed.mockRestore();
  });
});
