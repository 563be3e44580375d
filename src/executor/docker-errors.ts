import { ExecError } from '../common/errors';

interface DockerodeError {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
  reason?: string;
  message?: string;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

/** Docker's own words for an error, without dockerode's "(HTTP code 404) no such container -" prefix. */
export function dockerMessage(err: unknown): string {
  const e = err as DockerodeError;
  return (e?.json?.message ?? e?.reason ?? e?.message ?? String(err)).toString().trim();
}

/**
 * Turns a dockerode failure into an ExecError. `what` names the object for NOT_FOUND
 * ("image busybox:x", "container 3f2a…"), so the message says what is missing.
 */
export function fromDockerError(err: unknown, what: string): ExecError {
  if (err instanceof ExecError) return err;
  const e = err as DockerodeError;
  if (e?.code && UNREACHABLE.has(e.code)) {
    return new ExecError('unavailable', `Docker engine unreachable (${e.code}): ${dockerMessage(err)}`);
  }
  switch (e?.statusCode) {
    case 404:
      return new ExecError('not_found', `${what} not found: ${dockerMessage(err)}`);
    case 409:
      return new ExecError('precondition', `${what}: ${dockerMessage(err)}`);
    case 400:
      return new ExecError('invalid', `${what}: ${dockerMessage(err)}`);
    case 500:
    case 503:
      return new ExecError('unavailable', `Docker engine error on ${what}: ${dockerMessage(err)}`);
  }
  return new ExecError('unavailable', `Docker request for ${what} failed: ${dockerMessage(err)}`);
}
