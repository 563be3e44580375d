import { ExecError } from '../../common/errors';
import { buildOutcome, readOutcomeRecord, signalOf, type OutcomeFacts } from './session-outcome';
import { toWireOutcome } from './client-cursor';

const facts = (over: Partial<OutcomeFacts>): OutcomeFacts => ({
  outcome: { exitCode: 0 },
  startedAt: 1_000,
  finishedAt: 3_000,
  bytes: { stdout: 5, stderr: 2 },
  ...over,
});

describe('buildOutcome', () => {
  it.each([
    [{ outcome: { exitCode: 0 } }, 'exited', 0, 0],
    [{ outcome: { exitCode: 3 } }, 'exited', 3, 0],
    [{ outcome: { exitCode: 143 } }, 'signaled', 143, 15],
    [{ outcome: { exitCode: 137, oomKilled: true } }, 'oom_killed', 137, 9],
    [{ outcome: { exitCode: 143 }, killReason: 'timeout' as const }, 'timeout', 143, 15],
    [{ outcome: { exitCode: 0 }, killReason: 'idle_timeout' as const }, 'idle_timeout', 0, 0],
    [{ outcome: { exitCode: 137 }, killReason: 'killed_by_request' as const }, 'killed_by_request', 137, 9],
    // A signal the process survived (it exited by itself afterwards) is not what ended it.
    [{ outcome: { exitCode: 0 }, killReason: 'killed_by_request' as const }, 'exited', 0, 0],
    [{ outcome: { exitCode: 137, oomKilled: true }, killReason: 'timeout' as const }, 'oom_killed', 137, 9],
  ])('%j → %s', (over, reason, exitCode, signal) => {
    expect(buildOutcome(facts(over))).toMatchObject({ reason, exitCode, signal, startedAt: 1_000, finishedAt: 3_000, stdoutBytes: 5, stderrBytes: 2 });
  });

  it('a timeout says which signal the service sent and whether the process died of it or exited by itself', () => {
    const timeout = (exitCode: number, timeoutSignal: number, killReason: 'timeout' | 'idle_timeout' = 'timeout') =>
      buildOutcome(facts({ outcome: { exitCode }, killReason, timeoutSignal }));
    expect(timeout(143, 15)).toMatchObject({ reason: 'timeout', exitCode: 143, signal: 15, timeoutSignal: 15 });
    expect(timeout(143, 15).message).toBe('ended by the service after its hard timeout: SIGTERM (exit code 143)');
    expect(timeout(137, 9).message).toBe('ended by the service after its hard timeout: SIGTERM, then SIGKILL after the grace (exit code 137)');
    // A process that handles SIGTERM and exits 0 by itself, before the grace runs out: not "ended by the service".
    expect(timeout(0, 15)).toMatchObject({ reason: 'timeout', exitCode: 0, signal: 0, timeoutSignal: 15 });
    expect(timeout(0, 15).message).toBe('its hard timeout expired and the service sent SIGTERM; the process then exited by itself with code 0, before SIGKILL');
    expect(timeout(3, 15, 'idle_timeout').message).toBe(
      'its idle timeout expired (no output for too long) and the service sent SIGTERM; the process then exited by itself with code 3, before SIGKILL',
    );
    // A timeout remembered from before a restart (kill.json is written right before SIGTERM is sent).
    expect(timeout(0, 0)).toMatchObject({ reason: 'timeout', timeoutSignal: 15 });
    expect(buildOutcome(facts({ outcome: { exitCode: 0 } })).timeoutSignal).toBe(0);
    expect(toWireOutcome(timeout(0, 15))).toMatchObject({ timeout_signal: 15 });
  });

  it("an exec's SIGKILL by its container's end says so; the service's own kills and other signals keep theirs", () => {
    const ended = buildOutcome(facts({ outcome: { exitCode: 137, containerEnded: true } }));
    expect(ended).toMatchObject({ reason: 'signaled', exitCode: 137, signal: 9 });
    expect(ended.message).toBe(
      "killed (SIGKILL) when its container's main process ended: the kernel ends every process left in a container then (exit code 137)",
    );
    expect(buildOutcome(facts({ outcome: { exitCode: 137 } })).message).toBe('ended by signal 9 (exit code 137)');
    expect(buildOutcome(facts({ outcome: { exitCode: 137, containerEnded: true }, killReason: 'output_limit' })).reason).toBe('output_limit');
    expect(buildOutcome(facts({ outcome: { exitCode: 137, containerEnded: true }, killReason: 'killed_by_request' })).reason).toBe('killed_by_request');
  });

  it('an error outcome is lost, with exit code -1 and the error as its message', () => {
    const r = buildOutcome(facts({ outcome: { error: new ExecError('aborted', 'the container vanished') } }));
    expect(r).toMatchObject({ reason: 'lost', exitCode: -1, signal: 0, message: 'the container vanished' });
  });

  it('signalOf reads 128 + n only for real signal numbers', () => {
    expect([signalOf(0), signalOf(128), signalOf(129), signalOf(192), signalOf(193), signalOf(255)]).toEqual([0, 0, 1, 64, 0, 0]);
  });

  it('round-trips through exit.json and converts to the wire in Unix ns', () => {
    const r = buildOutcome(facts({ outcome: { exitCode: 2 } }));
    expect(readOutcomeRecord(JSON.parse(JSON.stringify(r)))).toEqual(r);
    expect(readOutcomeRecord({ ...r, reason: 'made-up' })).toBeUndefined();
    expect(readOutcomeRecord(undefined)).toBeUndefined();
    // exit.json written before timeoutSignal existed
    const { timeoutSignal, ...older } = r;
    expect(timeoutSignal).toBe(0);
    expect(readOutcomeRecord(JSON.parse(JSON.stringify(older)))).toEqual(r);
    expect(toWireOutcome(r)).toMatchObject({ exit_code: 2, started_at: '1000000000', finished_at: '3000000000', stdout_bytes: '5', stderr_bytes: '2' });
  });
});
