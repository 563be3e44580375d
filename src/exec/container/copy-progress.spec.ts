import { CopyProgress } from './copy-progress';

const pace = { windowMs: 30_000, minBytesPerSecond: 16_384, maxMs: 3_600_000 };

/** A CopyProgress on a clock the test moves. */
function progress(what: 'CopyTo' | 'CopyFrom' = 'CopyTo') {
  let t = 0;
  const p = new CopyProgress(what, pace, () => t);
  return { p, advance: (ms: number) => (t += ms) };
}

describe('CopyProgress', () => {
  it('a client that keeps the minimum rate while the copy waits on it passes every window', () => {
    const { p, advance } = progress();
    p.waitingOnClient(true);
    for (let w = 0; w < 5; w++) {
      for (let s = 0; s < 30; s++) {
        advance(1000);
        p.moved(16_384);
      }
      expect(p.check()).toBeUndefined();
    }
  });

  it('empty messages and a one-byte drip fail the first window, naming the setting', () => {
    const { p, advance } = progress();
    p.waitingOnClient(true);
    for (let s = 0; s < 15; s++) {
      advance(2000);
      p.moved(1);
    }
    const err = p.check();
    expect({ kind: err?.kind, message: err?.message }).toEqual({
      kind: 'aborted',
      message: expect.stringMatching(
        /^CopyTo's client sent 15 bytes in 30000 ms of waiting on it, less than 16384 bytes\/s \(EXEC_COPY_MIN_BYTES_PER_SECOND, over EXEC_COPY_STALL_MS=30000\)/,
      ),
    });
  });

  it("time the copy waits on Docker is not the client's: a window spent mostly waiting on Docker passes", () => {
    const { p, advance } = progress('CopyFrom');
    p.waitingOnClient(false);
    advance(20_000);
    p.waitingOnClient(true);
    advance(10_000); // less than half the window waiting on the client, nothing taken
    expect(p.check()).toBeUndefined();
    advance(30_000); // a whole window waiting on it, nothing taken
    expect(p.check()?.message).toMatch(/^CopyFrom's client took 0 bytes in 30000 ms/);
  });

  it('no copy runs past maxMs, however fast', () => {
    const { p, advance } = progress();
    p.waitingOnClient(true);
    for (let w = 0; w < 119; w++) {
      advance(30_000);
      p.moved(1 << 30);
      expect(p.check()).toBeUndefined();
    }
    advance(30_000);
    expect(p.check()?.message).toBe('CopyTo ran for 3600000 ms, the most a copy may hold its container (EXEC_COPY_MAX_MS): it was ended');
  });

  it('a minimum of 0 still needs one byte per window', () => {
    let t = 0;
    const p = new CopyProgress('CopyTo', { ...pace, minBytesPerSecond: 0 }, () => t);
    p.waitingOnClient(true);
    t += 30_000;
    expect(p.check()).toBeDefined();
    t += 30_000;
    p.moved(1);
    expect(p.check()).toBeUndefined();
  });
});
