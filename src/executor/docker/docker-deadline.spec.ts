import { ExecError } from '../../common/errors';
import { isGiveUp, withDeadline } from './docker-deadline';

const never = () => new Promise<never>(() => undefined);

describe('withDeadline', () => {
  it('past the deadline: aborts the request and fails UNAVAILABLE naming the operation and the time', async () => {
    let signal!: AbortSignal;
    const err = await withDeadline(20, 'start of container abc', (s) => ((signal = s), never())).catch((e: ExecError) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect(err).toMatchObject({ kind: 'unavailable', message: 'Docker did not answer start of container abc within 0.02 s (EXEC_DOCKER_TIMEOUT_MS=20)' });
    expect(isGiveUp(err)).toBe(true);
    expect(signal.aborted).toBe(true);
  });

  it('a cancel first: aborts the request and fails ABORTED', async () => {
    const cancel = new AbortController();
    let signal!: AbortSignal;
    const p = withDeadline(60_000, 'attach', (s) => ((signal = s), never()), cancel.signal);
    cancel.abort();
    await expect(p).rejects.toMatchObject({ kind: 'aborted' });
    expect(signal.aborted).toBe(true);
    await expect(withDeadline(60_000, 'attach', never, cancel.signal)).rejects.toMatchObject({ kind: 'aborted' });
  });

  it('an answer in time: its value, Docker errors unchanged, and the signal is never aborted afterwards', async () => {
    jest.useFakeTimers();
    const cancel = new AbortController();
    let signal!: AbortSignal;
    await expect(withDeadline(20, 'inspect', async (s) => ((signal = s), 7), cancel.signal)).resolves.toBe(7);
    cancel.abort();
    jest.advanceTimersByTime(1000); // far past the deadline
    jest.useRealTimers();
    expect(signal.aborted).toBe(false);
    const dockerErr = Object.assign(new Error('no such container'), { statusCode: 404 });
    await expect(withDeadline(20, 'inspect', () => Promise.reject(dockerErr))).rejects.toBe(dockerErr);
  });

  it('a value arriving after giving up goes to onLate (to be cleaned up)', async () => {
    let answer!: (v: string) => void;
    const late: string[] = [];
    const p = withDeadline(
      10,
      'create',
      () => new Promise<string>((r) => (answer = r)),
      undefined,
      (v) => late.push(v),
    );
    await expect(p).rejects.toMatchObject({ kind: 'unavailable' });
    answer('container-1');
    await Promise.resolve();
    expect(late).toEqual(['container-1']);
  });
});
