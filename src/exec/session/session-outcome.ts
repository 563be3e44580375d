import { ExecError, reasonWithCode, withDetail, type ErrorKind } from '../../common/errors';
import { msToNs } from '../../common/time';

/** Why the service itself ended a process (set on the Session before it signals; see Outcome.reason). */
export type KillReason = 'timeout' | 'idle_timeout' | 'killed_by_request' | 'output_limit';

/** Outcome.reason values (docs/PROTOCOL.md, "Outcome"). */
export type OutcomeReason = 'exited' | 'signaled' | 'oom_killed' | 'lost' | KillReason;

/** A session's Outcome as kept in memory and in exit.json: times in Unix ms, byte counts per stream. */
export interface OutcomeRecord {
  exitCode: number;
  signal: number;
  reason: OutcomeReason;
  startedAt: number;
  finishedAt: number;
  stdoutBytes: number;
  stderrBytes: number;
  message: string;
  /** The last signal the service sent on a timeout (15 SIGTERM, 9 SIGKILL after the grace); 0 when none. */
  timeoutSignal: number;
}

/**
 * How a session's process ended: its exit code (and whether Docker saw it OOM-killed), or the error its
 * clients are given instead; `record` is the Outcome built from it once the session finished.
 */
export type SessionOutcome = ({ exitCode: number; oomKilled?: boolean; containerEnded?: boolean } | { error: ExecError }) & { record?: OutcomeRecord };

/**
 * The error that ends a session's clients instead of `exit`, with the session as its resource: its
 * outcome is lost (UNAVAILABLE), its output incomplete (ABORTED) or damaged (DATA_LOSS). An error that
 * already says more keeps what it says.
 */
export function sessionEndError<E>(err: E, sessionId: string): E {
  const resource = { type: 'session' as const, name: sessionId };
  return withDetail(err, {
    unavailable: { reason: 'OUTCOME_LOST', resource },
    aborted: { reason: 'OUTPUT_INCOMPLETE', resource },
    data_loss: { reason: 'OUTPUT_DAMAGED', resource },
    internal: { reason: 'INTERNAL', resource },
  });
}

/** An ending error as exit.json keeps it: its kind, message and reason. */
export interface StoredError {
  kind: string;
  message: string;
  reason?: string;
}

export function storedError(err: ExecError): StoredError {
  return { kind: err.kind, message: err.message, ...(err.detail ? { reason: err.detail.reason } : {}) };
}

/** The ending error exit.json kept (its reason, when it is one of the list and goes with its kind). */
export function restoredError(stored: StoredError, sessionId: string): ExecError {
  const err = new ExecError(stored.kind as ErrorKind, stored.message);
  const reason = reasonWithCode(err.grpcCode, stored.reason);
  if (reason) (err as { detail?: ExecError['detail'] }).detail = { reason, resource: { type: 'session', name: sessionId } };
  return sessionEndError(err, sessionId);
}

const REASONS: ReadonlySet<string> = new Set<OutcomeReason>([
  'exited',
  'signaled',
  'oom_killed',
  'lost',
  'timeout',
  'idle_timeout',
  'killed_by_request',
  'output_limit',
]);

/** The signal number behind an exit code (Docker and shells report 128 + n for a process killed by signal n), else 0. */
export function signalOf(exitCode: number): number {
  return exitCode > 128 && exitCode <= 128 + 64 ? exitCode - 128 : 0;
}

export interface OutcomeFacts {
  outcome: SessionOutcome;
  killReason?: KillReason;
  /** The last signal a timeout sent (Session.timeoutSignal); 0 / unset when none was sent in this process's life. */
  timeoutSignal?: number;
  startedAt?: number;
  finishedAt: number;
  bytes: { stdout: number; stderr: number };
}

const SIGTERM = 15;
const SIGKILL = 9;

/**
 * The Outcome of a finished session. Precedence: an error outcome is `lost` (exit_code -1); Docker's
 * OOMKilled is `oom_killed`; a timeout the service enforced is `timeout` / `idle_timeout` (its message
 * says which signals were sent, and whether the process died of one or then exited by itself), its output
 * limit `output_limit` (whatever the exit code: the output is cut); a
 * ContainerSignal counts (`killed_by_request`) only when the process then ended by a signal; any other
 * 128+n is `signaled` (an exec's SIGKILL by its container's end says so); else `exited`.
 */
export function buildOutcome(f: OutcomeFacts): OutcomeRecord {
  const base = {
    startedAt: f.startedAt ?? f.finishedAt,
    finishedAt: f.finishedAt,
    stdoutBytes: f.bytes.stdout,
    stderrBytes: f.bytes.stderr,
    timeoutSignal: 0,
  };
  if (!('exitCode' in f.outcome)) return { ...base, exitCode: -1, signal: 0, reason: 'lost', message: f.outcome.error.message };
  const { exitCode } = f.outcome;
  const signal = signalOf(exitCode);
  const code = `exit code ${exitCode}`;
  if (f.outcome.oomKilled) {
    return { ...base, exitCode, signal, reason: 'oom_killed', message: `killed by the kernel's OOM killer: the container reached its memory limit (${code})` };
  }
  if (f.killReason === 'timeout' || f.killReason === 'idle_timeout') {
    // A timeout remembered across a restart (kill.json) sent at least SIGTERM: kill.json is written right before it.
    const timeoutSignal = f.timeoutSignal || SIGTERM;
    const which = f.killReason === 'timeout' ? 'its hard timeout' : 'its idle timeout';
    const sent = timeoutSignal === SIGKILL ? 'SIGTERM, then SIGKILL after the grace' : 'SIGTERM';
    const message = signal
      ? `ended by the service after ${which}${f.killReason === 'idle_timeout' ? ' (no output for too long)' : ''}: ${sent} (${code})`
      : `${which} expired${f.killReason === 'idle_timeout' ? ' (no output for too long)' : ''} and the service sent ${sent}; ` +
        `the process then exited by itself with code ${exitCode}${timeoutSignal === SIGKILL ? '' : ', before SIGKILL'}`;
    return { ...base, exitCode, signal, reason: f.killReason, timeoutSignal, message };
  }
  if (f.killReason === 'output_limit') {
    const limit = f.bytes.stdout + f.bytes.stderr;
    return {
      ...base,
      exitCode,
      signal,
      reason: 'output_limit',
      message: `ended by the service when its output reached its limit of ${limit} bytes; what it wrote after was not recorded (${code})`,
    };
  }
  if (f.killReason === 'killed_by_request' && signal) {
    return { ...base, exitCode, signal, reason: 'killed_by_request', message: `ended by signal ${signal}, sent through ContainerSignal` };
  }
  if (signal === SIGKILL && f.outcome.containerEnded) {
    const message = `killed (SIGKILL) when its container's main process ended: the kernel ends every process left in a container then (${code})`;
    return { ...base, exitCode, signal, reason: 'signaled', message };
  }
  if (signal) return { ...base, exitCode, signal, reason: 'signaled', message: `ended by signal ${signal} (${code})` };
  return { ...base, exitCode, signal: 0, reason: 'exited', message: `exited with code ${exitCode}` };
}

/** An OutcomeRecord read back from exit.json, or undefined when it is absent or not one. */
export function readOutcomeRecord(value: unknown): OutcomeRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const numbers = ['exitCode', 'signal', 'startedAt', 'finishedAt', 'stdoutBytes', 'stderrBytes'];
  if (!numbers.every((k) => typeof r[k] === 'number') || typeof r.reason !== 'string' || !REASONS.has(r.reason) || typeof r.message !== 'string')
    return undefined;
  return { ...(r as unknown as OutcomeRecord), timeoutSignal: typeof r.timeoutSignal === 'number' ? r.timeoutSignal : 0 };
}

/** Unix ms as the wire's Unix ns (a decimal string); 0 when unknown. */
export function unixNs(ms: number | undefined): string {
  return ms ? msToNs(ms).toString() : '0';
}
