import { ExecError } from '../../common/errors';

interface DockerodeError {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
  reason?: string;
  message?: string;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

/** A container's root on the engine's host (`/var/lib/docker/overlay2/<id>/merged`), which Docker's words name before a path in it. */
const HOST_ROOTFS = /\/\S*?\/overlay2?\/[0-9a-f]{16,}\/merged(?=\/|$|\s)/g;

/**
 * Docker's own words for an error, without dockerode's "(HTTP code 404) no such container -" prefix and
 * without the host's path of a container's root file system (a path in the container stays).
 */
export function dockerMessage(err: unknown): string {
  const e = err as DockerodeError;
  return (e?.json?.message ?? e?.reason ?? e?.message ?? String(err)).toString().trim().replace(HOST_ROOTFS, '');
}

/**
 * What the caller got wrong when Docker (or Node's HTTP client, before Docker) refused a request for
 * what the caller sent, whatever status code Docker chose for it; undefined for anything else.
 */
function clientMistake(e: DockerodeError | undefined): string | undefined {
  if (!e) return undefined;
  if (e.code === 'ERR_UNESCAPED_CHARACTERS') return 'the id or name has characters a request path cannot carry';
  if (e.statusCode !== undefined && e.statusCode >= 300 && e.statusCode < 400) return 'the id or name is not a plain name (Docker redirected the request)';
  const text = dockerMessage(e);
  if (/multiple IDs found/i.test(text)) return 'the id prefix is ambiguous: give more of the id';
  if (e.code === 'ENAMETOOLONG' || /file name too long/i.test(text)) return 'a path component is too long (at most 255 bytes)';
  if (/unable to find (user|group)|no matching entries in (passwd|group) file/i.test(text))
    return 'the user (or group) is not known in the image: give a uid[:gid] or a name in its /etc/passwd';
  if (/uids and gids must be in range/i.test(text)) return "a uid or gid is out of Docker's range 0-2147483647";
  if (/too many links/i.test(text)) return 'the path has too many components or symbolic links to resolve (Docker follows at most 255)';
  return undefined;
}

/**
 * Docker's answer when the container was not in the state a request needs (paused, not paused, not
 * running, restarting, being removed), which Docker 20.10 sends as 409 or as 500 by request: the
 * caller lost a race with another call or with the process's exit, so it is FAILED_PRECONDITION,
 * never UNAVAILABLE (which tells a client to retry the same thing).
 */
export function isStateConflict(err: unknown): boolean {
  const e = err as DockerodeError;
  if (e?.statusCode === 409) return true;
  return (
    e?.statusCode === 500 &&
    /is (not|already) paused|is not running|is paused|is restarting|marked for removal|removal of container .* is already in progress|cannot exec in a (stopped|paused) (state|container)|container not running|process already finished/i.test(
      dockerMessage(err),
    )
  );
}

/**
 * Turns a dockerode failure into an ExecError. `what` names the object for NOT_FOUND
 * ("image busybox:x", "container 3f2a…"), so the message says what is missing.
 */
export function fromDockerError(err: unknown, what: string): ExecError {
  if (err instanceof ExecError) return err;
  const e = err as DockerodeError;
  if (e?.code === 'EMFILE' || e?.code === 'ENFILE') {
    return new ExecError(
      'exhausted',
      `exec-stream has run out of file descriptors (${e.code}: too many open files) for a Docker request for ${what}: raise its limit (ulimit -n) or let sessions end`,
    );
  }
  if (e?.code && UNREACHABLE.has(e.code)) {
    return new ExecError('unavailable', `Docker engine unreachable (${e.code}): ${dockerMessage(err)}`);
  }
  // A TLS engine (DOCKER_TLS_VERIFY) that refuses our certificate, or whose certificate we refuse.
  if (
    e?.statusCode === undefined &&
    (/^ERR_(SSL|TLS)_|CERT|SELF_SIGNED|LEAF_SIGNATURE/.test(e?.code ?? '') || /\bssl\b|\btls\b|certificate/i.test(dockerMessage(err)))
  ) {
    return new ExecError(
      'unavailable',
      `Docker engine unreachable: TLS handshake failed (${e?.code ?? 'TLS'}: ${dockerMessage(err)}); check DOCKER_CERT_PATH's ca.pem, cert.pem and key.pem against the engine's`,
    );
  }
  const invalid = clientMistake(e);
  if (invalid) return new ExecError('invalid', `${what}: ${invalid}: ${dockerMessage(err)}`);
  if (isStateConflict(err)) return new ExecError('precondition', `${what}: ${dockerMessage(err)}`);
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
