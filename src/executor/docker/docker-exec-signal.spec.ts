import type Docker from 'dockerode';
import { ExecError } from '../../common/errors';
import type { DockerCall } from './docker-call';
import { EXEC_START_WAIT_MS, signalExecProcess } from './docker-exec-signal';

type ExecState = { Running: boolean; Pid: number; ExitCode: number | null; ContainerID: string };
const NOT_STARTED: ExecState = { Running: false, Pid: 0, ExitCode: null, ContainerID: 'c'.repeat(64) };
const EXITED: ExecState = { ...NOT_STARTED, ExitCode: 0 };

/** A Docker whose exec inspect answers the states in turn (the last one for ever), counting the asks. */
function dockerAnswering(...states: ExecState[]) {
  let asked = 0;
  const docker = { getExec: () => ({ inspect: () => Promise.resolve(states[Math.min(asked++, states.length - 1)]) }) } as unknown as Docker;
  return { docker, asked: () => asked };
}
const call: DockerCall = (_operation, fn) => fn(new AbortController().signal);
const execId = 'e'.repeat(64);

describe('signalExecProcess, an exec Docker shows as not yet started', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('asks again while it shows no pid and no exit code, and answers with what it then is (here: exited, so not signalled)', async () => {
    const { docker, asked } = dockerAnswering(NOT_STARTED, NOT_STARTED, EXITED);
    const signalled = signalExecProcess(docker, execId, 9, call).catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(1000);
    const err = (await signalled) as ExecError;
    expect(err).toBeInstanceOf(ExecError);
    expect(err.message).toBe(`exec ${execId.slice(0, 12)} is not running (exit code 0)`);
    expect(asked()).toBe(3);
  });

  it('asks again while it shows running without a pid', async () => {
    const { docker, asked } = dockerAnswering({ ...NOT_STARTED, Running: true }, EXITED);
    const signalled = signalExecProcess(docker, execId, 9, call).catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(200);
    expect(((await signalled) as ExecError).message).toBe(`exec ${execId.slice(0, 12)} is not running (exit code 0)`);
    expect(asked()).toBe(2);
  });

  it('asks once for an exec that has exited', async () => {
    const { docker, asked } = dockerAnswering({ ...EXITED, ExitCode: 137 });
    await expect(signalExecProcess(docker, execId, 9, call)).rejects.toThrow('is not running (exit code 137)');
    expect(asked()).toBe(1);
  });

  it(`gives up after ${EXEC_START_WAIT_MS} ms on an exec that never starts: FAILED_PRECONDITION, exit code unknown`, async () => {
    const { docker, asked } = dockerAnswering(NOT_STARTED);
    const signalled = signalExecProcess(docker, execId, 9, call).catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(EXEC_START_WAIT_MS + 200);
    const err = (await signalled) as ExecError;
    expect({ kind: err.kind, message: err.message }).toEqual({
      kind: 'precondition',
      message: `exec ${execId.slice(0, 12)} is not running (exit code unknown)`,
    });
    expect(asked()).toBeGreaterThan(EXEC_START_WAIT_MS / 100);
  });
});
