import { ExecError } from '../../common/errors';

/**
 * Runs one Docker request that should complete (or, for a stream, be established) within `ms`: `call`
 * gets an AbortSignal to hand to dockerode. Past the deadline the request is aborted and the promise
 * rejects UNAVAILABLE "Docker did not answer <operation> within N s"; when `cancel` fires first it is
 * aborted and rejects ABORTED. Once `call` settles the signal is never aborted, so a stream's body
 * (attach, wait, stats, logs) has no deadline. `onLate` receives a value that arrived after giving up.
 */
export function withDeadline<T>(
  ms: number,
  operation: string,
  call: (signal: AbortSignal) => Promise<T>,
  cancel?: AbortSignal,
  onLate?: (value: T) => void,
): Promise<T> {
  if (cancel?.aborted) return Promise.reject(cancelledError(operation));
  const abort = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      cancel?.removeEventListener('abort', onCancel);
      fn();
      return true;
    };
    const giveUp = (err: ExecError) =>
      settle(() => {
        abort.abort(err);
        reject(err);
      });
    const timer = setTimeout(() => giveUp(deadlineError(operation, ms)), ms);
    const onCancel = () => giveUp(cancelledError(operation));
    cancel?.addEventListener('abort', onCancel, { once: true });
    let pending: Promise<T>;
    try {
      pending = call(abort.signal);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (value) => {
        if (!settle(() => resolve(value))) onLate?.(value);
      },
      (err) => void settle(() => reject(err)),
    );
  });
}

/** A request given up on: Docker did not answer in time (UNAVAILABLE) or the caller cancelled (ABORTED). */
export class DockerGaveUp extends ExecError {}

/** True when `err` is a request given up on, not an answer from Docker. */
export function isGiveUp(err: unknown): err is DockerGaveUp {
  return err instanceof DockerGaveUp;
}

/** The error a request past its deadline fails with. */
export function deadlineError(operation: string, ms: number): ExecError {
  return new DockerGaveUp('unavailable', `Docker did not answer ${operation} within ${ms / 1000} s (EXEC_DOCKER_TIMEOUT_MS=${ms})`, {
    reason: 'DOCKER_TIMEOUT',
    metadata: { request: operation, setting: 'EXEC_DOCKER_TIMEOUT_MS' },
  });
}

function cancelledError(operation: string): ExecError {
  return new DockerGaveUp('aborted', `cancelled by the client while waiting for Docker's answer to ${operation}`, { reason: 'CLIENT_CANCELLED' });
}
