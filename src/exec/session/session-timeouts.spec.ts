import type { Session } from './session';
import { armSessionTimeouts, readTimeoutSpec } from './session-timeouts';

/** The parts of a Session the timeouts use: its process's end, output notifications, running, killReason. */
function fakeSession() {
  let listener: { onRecorded(): void } | undefined;
  let end!: () => void;
  const done = new Promise<{ exitCode: number }>((resolve) => (end = () => resolve({ exitCode: 143 })));
  const session = {
    process: { done },
    running: true,
    killReason: undefined as string | undefined,
    timeoutSignal: undefined as number | undefined,
    tee: {
      addListener: (l: { onRecorded(): void }) => {
        listener = l;
        return () => (listener = undefined);
      },
    },
    logger: { info: () => undefined, warn: () => undefined },
  };
  return { session, output: () => listener?.onRecorded(), listening: () => !!listener, end };
}

describe('armSessionTimeouts', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('hard timeout: killReason first, SIGTERM, then SIGKILL after the grace while still running', () => {
    const { session } = fakeSession();
    const sent: [number, string | undefined][] = [];
    armSessionTimeouts(session as unknown as Session, { timeoutMs: 1000, idleTimeoutMs: 0, killGraceMs: 500 }, async (n) => sent.push([n, session.killReason]));
    jest.advanceTimersByTime(999);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(sent).toEqual([[15, 'timeout']]);
    jest.advanceTimersByTime(500);
    expect(sent).toEqual([
      [15, 'timeout'],
      [9, 'timeout'],
    ]);
    expect(session.timeoutSignal).toBe(9);
  });

  it('no SIGKILL when the process ended within the grace', () => {
    const { session } = fakeSession();
    const sent: number[] = [];
    armSessionTimeouts(session as unknown as Session, { timeoutMs: 100, idleTimeoutMs: 0, killGraceMs: 500 }, async (n) => sent.push(n));
    jest.advanceTimersByTime(100);
    session.running = false;
    jest.advanceTimersByTime(1000);
    expect(sent).toEqual([15]);
    expect(session.timeoutSignal).toBe(15);
  });

  it('idle timeout counts from the last output', () => {
    const { session, output } = fakeSession();
    const sent: number[] = [];
    armSessionTimeouts(session as unknown as Session, { timeoutMs: 0, idleTimeoutMs: 1000, killGraceMs: 500 }, async (n) => sent.push(n));
    for (let i = 0; i < 5; i++) {
      jest.advanceTimersByTime(800);
      output();
    }
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(1000);
    expect(sent).toEqual([15]);
    expect(session.killReason).toBe('idle_timeout');
  });

  it('disarms when the process ends: no signal, no listener left', async () => {
    const { session, end, listening } = fakeSession();
    const sent: number[] = [];
    armSessionTimeouts(session as unknown as Session, { timeoutMs: 1000, idleTimeoutMs: 1000, killGraceMs: 500 }, async (n) => sent.push(n));
    expect(listening()).toBe(true);
    end();
    await Promise.resolve();
    await Promise.resolve();
    jest.advanceTimersByTime(5000);
    expect(sent).toEqual([]);
    expect(listening()).toBe(false);
  });

  it('the hard timeout counts from the recorded start: a re-adopted session gets only what is left', () => {
    const { session } = fakeSession();
    const sent: number[] = [];
    armSessionTimeouts(session as unknown as Session, { timeoutMs: 1000, idleTimeoutMs: 0, killGraceMs: 500 }, async (n) => sent.push(n), Date.now() - 700);
    jest.advanceTimersByTime(299);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(sent).toEqual([15]);
    expect(session.killReason).toBe('timeout');
  });

  it('a hard timeout already past at re-adoption: SIGTERM at once, SIGKILL after the grace', () => {
    const { session } = fakeSession();
    const sent: number[] = [];
    armSessionTimeouts(session as unknown as Session, { timeoutMs: 1000, idleTimeoutMs: 0, killGraceMs: 500 }, async (n) => sent.push(n), Date.now() - 60_000);
    jest.advanceTimersByTime(0);
    expect(sent).toEqual([15]);
    jest.advanceTimersByTime(500);
    expect(sent).toEqual([15, 9]);
  });

  it('a timeout that had fired before a restart (killReason restored) signals again at once, keeping its reason', () => {
    const { session } = fakeSession();
    session.killReason = 'idle_timeout';
    const sent: number[] = [];
    armSessionTimeouts(session as unknown as Session, { timeoutMs: 0, idleTimeoutMs: 5000, killGraceMs: 500 }, async (n) => sent.push(n));
    jest.advanceTimersByTime(0);
    expect(sent).toEqual([15]);
    expect(session.killReason).toBe('idle_timeout');
  });

  it("a hard timeout beyond Node's 2^31-1 ms timer limit fires exactly when due, not at once", () => {
    const { session } = fakeSession();
    const sent: number[] = [];
    const ms = 600 * 3_600_000; // 600 h, the CLI's `--timeout 600h`
    armSessionTimeouts(session as unknown as Session, { timeoutMs: ms, idleTimeoutMs: 0, killGraceMs: 500 }, async (n) => sent.push(n));
    jest.advanceTimersByTime(1000);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(ms - 1001);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(sent).toEqual([15]);
    expect(session.killReason).toBe('timeout');
  });

  it('an idle timeout beyond 2^31-1 ms waits without spinning and fires once the quiet lasted that long', () => {
    const { session, output } = fakeSession();
    const sent: number[] = [];
    const ms = 2 ** 31 + 5_000;
    armSessionTimeouts(session as unknown as Session, { timeoutMs: 0, idleTimeoutMs: ms, killGraceMs: 500 }, async (n) => sent.push(n));
    // Node runs a delay over 2^31-1 ms after 1 ms: re-armed each time, that is a timer per ms (a spinning session).
    const armed = jest.spyOn(global, 'setTimeout');
    jest.advanceTimersByTime(1000);
    expect(sent).toEqual([]);
    expect(armed.mock.calls.length).toBeLessThanOrEqual(1);
    armed.mockRestore();
    jest.advanceTimersByTime(ms - 2000);
    output(); // output 1 s before the quiet would have lasted `ms`: counts again from here
    jest.advanceTimersByTime(ms - 1);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(sent).toEqual([15]);
    expect(session.killReason).toBe('idle_timeout');
  });

  it('the returned function disarms (drain: the next start enforces them)', () => {
    const { session, listening } = fakeSession();
    const sent: number[] = [];
    const disarm = armSessionTimeouts(session as unknown as Session, { timeoutMs: 1000, idleTimeoutMs: 1000, killGraceMs: 500 }, async (n) => sent.push(n));
    disarm();
    jest.advanceTimersByTime(5000);
    expect(sent).toEqual([]);
    expect(listening()).toBe(false);
  });
});

describe('readTimeoutSpec (meta.json)', () => {
  it('reads a stored spec; none, or one without a timeout, is undefined', () => {
    expect(readTimeoutSpec({ timeoutMs: 4000, idleTimeoutMs: 0, killGraceMs: 1000 }, 10_000)).toEqual({ timeoutMs: 4000, idleTimeoutMs: 0, killGraceMs: 1000 });
    expect(readTimeoutSpec({ idleTimeoutMs: 3000 }, 10_000)).toEqual({ timeoutMs: 0, idleTimeoutMs: 3000, killGraceMs: 10_000 });
    expect(readTimeoutSpec({ timeoutMs: 0, idleTimeoutMs: 0, killGraceMs: 1000 }, 10_000)).toBeUndefined();
    expect(readTimeoutSpec(undefined, 10_000)).toBeUndefined();
    expect(readTimeoutSpec({ timeoutMs: '5', idleTimeoutMs: -1 }, 10_000)).toBeUndefined();
  });
});
