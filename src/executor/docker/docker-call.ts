import { fromDockerError } from './docker-errors';
import { withDeadline } from './docker-deadline';

export interface DockerCallOptions<T> {
  /** Names the object for fromDockerError ("container 3f2a…"); without it a failure passes unchanged. */
  what?: string;
  /** Aborts the request (ABORTED) when it fires before Docker answered. */
  cancel?: AbortSignal;
  /** Receives a value that arrived after giving up, to clean it up. */
  onLate?: (value: T) => void;
}

/** One Docker request under EXEC_DOCKER_TIMEOUT_MS (withDeadline); with `what`, its failure mapped by fromDockerError. */
export type DockerCall = <T>(operation: string, fn: (abortSignal: AbortSignal) => Promise<T>, options?: DockerCallOptions<T>) => Promise<T>;

/** The DockerCall of a backend; the deadline is read from `config` at each request. */
export function dockerCall(config: { readonly EXEC_DOCKER_TIMEOUT_MS: number }): DockerCall {
  return (operation, fn, { what, cancel, onLate } = {}) => {
    const answer = withDeadline(config.EXEC_DOCKER_TIMEOUT_MS, operation, fn, cancel, onLate);
    return what === undefined ? answer : answer.catch(rethrowAs(what));
  };
}

/** A `.catch` handler that rethrows a dockerode failure as fromDockerError's ExecError about `what`. */
export function rethrowAs(what: string): (err: unknown) => never {
  return (err) => {
    throw fromDockerError(err, what);
  };
}
