import { setLongTimeout, type LongTimer } from '../../common/long-timer';
import type { KillReason } from './session-outcome';
import type { Session, TimeoutSpec } from './session';

export type { TimeoutSpec } from './session';

/** Sends a signal to the session's process: a run's container main process, or an exec's process. */
export type ProcessSignaller = (signal: number) => Promise<unknown>;

const SIGTERM = 15;
const SIGKILL = 9;

/** Start's timeouts as stored in meta.json (no grace stored: `defaultGraceMs`), or undefined when `value` holds none. */
export function readTimeoutSpec(value: unknown, defaultGraceMs: number): TimeoutSpec | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const ms = (k: string) => {
    const n = v[k];
    return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
  };
  const spec = { timeoutMs: ms('timeoutMs'), idleTimeoutMs: ms('idleTimeoutMs'), killGraceMs: ms('killGraceMs') || defaultGraceMs };
  return spec.timeoutMs || spec.idleTimeoutMs ? spec : undefined;
}

/**
 * Arms a started session's hard timeout (counted from `startedAt`, Unix ms: the process's start, also
 * when the session is re-adopted after a restart; already past → at once) and idle timeout (no output
 * recorded for that long, counted from now). On expiry the session's killReason is set first (and
 * persisted), then SIGTERM, then SIGKILL once `killGraceMs` has passed with the process still running. A
 * session whose killReason is already a timeout (set before a restart) is signalled again at once.
 * Everything is disarmed when the process ends, or by the returned function.
 */
export function armSessionTimeouts(
  session: Session,
  spec: TimeoutSpec,
  signal: ProcessSignaller,
  startedAt = Date.now(),
  /** Told of each signal right before it is sent (the audit trail's timeout_kill). */
  onSignal?: (reason: KillReason, signal: number) => void,
): () => void {
  if (!session.process || (!spec.timeoutMs && !spec.idleTimeoutMs)) return () => {};
  // Every delay the service accepts (up to 2^53 − 1 ms) is honoured: setLongTimeout chains Node's 2^31 − 1 ms timers.
  const timers = new Set<LongTimer>();
  const later = (ms: number, fn: () => void) => {
    const t = setLongTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  let expired = false;
  const expire = (reason: KillReason, ms: number) => {
    if (expired || !session.running) return;
    expired = true;
    session.killReason ??= reason;
    session.logger.info({ reason, ms, killGraceMs: spec.killGraceMs }, 'timeout expired: SIGTERM, then SIGKILL after the grace');
    const send = (n: number) => {
      session.timeoutSignal = n; // before the signal: the process may end before the request returns
      onSignal?.(reason, n);
      void signal(n).catch((err: Error) => session.running && session.logger.warn({ err: err.message, signal: n }, 'could not signal the process'));
    };
    send(SIGTERM);
    later(spec.killGraceMs, () => {
      if (session.running) send(SIGKILL);
    });
  };
  const pending = session.killReason === 'timeout' || session.killReason === 'idle_timeout' ? session.killReason : undefined;
  if (pending) later(0, () => expire(pending, pending === 'timeout' ? spec.timeoutMs : spec.idleTimeoutMs));
  if (spec.timeoutMs) later(Math.max(0, spec.timeoutMs - (Date.now() - startedAt)), () => expire('timeout', spec.timeoutMs));
  let stopListening = () => {};
  if (spec.idleTimeoutMs) {
    let lastOutput = performance.now();
    stopListening = session.tee.addListener({ onRecorded: () => (lastOutput = performance.now()) });
    const check = () => {
      const quiet = performance.now() - lastOutput;
      if (quiet >= spec.idleTimeoutMs) expire('idle_timeout', spec.idleTimeoutMs);
      else later(Math.ceil(spec.idleTimeoutMs - quiet), check);
    };
    later(spec.idleTimeoutMs, check);
  }
  const disarm = () => {
    stopListening();
    for (const t of timers) t.clear();
    timers.clear();
  };
  session.process.done.then(disarm, disarm);
  return disarm;
}
