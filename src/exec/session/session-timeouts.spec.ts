import type { Session } from './session';
import { armSessionTimeouts } from './session-timeouts';

/** The parts of a Session the timeouts use: its process's end, output notifications, running, killReason. */
function fakeSession() {
  let listener: { onRecorded(): void } | undefined;
  let end!: () => void;
  const done = new Promise<{ exitCode: number }>((resolve) => (end = () => resolve({ exitCode: 143 })));
  const session = {
    process: { done },
    running: true,
    killReason: undefined as string | undefined,
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
  });

  it('no SIGKILL when the process ended within the grace', () => {
    const { session } = fakeSession();
    const sent: number[] = [];
    armSessionTimeouts(session as unknown as Session, { timeoutMs: 100, idleTimeoutMs: 0, killGraceMs: 500 }, async (n) => sent.push(n));
    jest.advanceTimersByTime(100);
    session.running = false;
    jest.advanceTimersByTime(1000);
    expect(sent).toEqual([15]);
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
});
