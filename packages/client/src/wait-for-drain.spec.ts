import { EventEmitter } from 'node:events';
import { waitForDrain } from './wait-for-drain';

describe('waitForDrain', () => {
  it("resolves at the call's 'drain' and leaves no listener", async () => {
    const call = new EventEmitter();
    const stop = new AbortController();
    let done = false;
    const wait = waitForDrain(call, stop.signal).then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    call.emit('drain');
    await wait;
    expect(call.listenerCount('drain')).toBe(0);
  });

  it('resolves when the call ends while blocked (stop aborted), leaving no drain listener', async () => {
    const call = new EventEmitter();
    const stop = new AbortController();
    const wait = waitForDrain(call, stop.signal);
    stop.abort();
    await wait;
    expect(call.listenerCount('drain')).toBe(0);
  });

  it('resolves at once for a call that already ended', async () => {
    const call = new EventEmitter();
    await waitForDrain(call, AbortSignal.abort());
    expect(call.listenerCount('drain')).toBe(0);
  });
});
