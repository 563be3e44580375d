import type { KillReason } from './session-outcome';
import type { Session } from './session';

/** Start's timeouts, in ms; 0 = none. */
export interface TimeoutSpec {
  timeoutMs: number;
  idleTimeoutMs: number;
  /** SIGTERM → SIGKILL grace on expiry (the default EXEC_KILL_GRACE_MS already applied). */
  killGraceMs: number;
}

/** Sends a signal to the session's process: a run's container main process, or an exec's process. */
export type ProcessSignaller = (signal: number) => Promise<unknown>;

const SIGTERM = 15;
const SIGKILL = 9;

/**
 * Arms a started session's hard timeout (from now) and idle timeout (no output recorded for that long).
 * On expiry the session's killReason is set first, then SIGTERM, then SIGKILL once `killGraceMs` has
 * passed with the process still running. Everything is disarmed when the process ends.
 */
export function armSessionTimeouts(session: Session, spec: TimeoutSpec, signal: ProcessSignaller): void {
  if (!session.process || (!spec.timeoutMs && !spec.idleTimeoutMs)) return;
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
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
    const send = (n: number) =>
      signal(n).catch((err: Error) => session.running && session.logger.warn({ err: err.message, signal: n }, 'could not signal the process'));
    void send(SIGTERM);
    later(spec.killGraceMs, () => {
      if (session.running) void send(SIGKILL);
    });
  };
  if (spec.timeoutMs) later(spec.timeoutMs, () => expire('timeout', spec.timeoutMs));
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
    for (const t of timers) clearTimeout(t);
    timers.clear();
  };
  session.process.done.then(disarm, disarm);
}
