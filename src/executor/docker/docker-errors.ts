import { ExecError, NO_FDS_ERRNO, outOfFdsMessage, type ErrorDetail } from '../../common/errors';

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

/** The start of dockerode's message of a failed request: "(HTTP code 404) no such container - <Docker's words>". */
export const HTTP_CODE = /^\(HTTP code \d+\) /;

/** dockerode's message without its "(HTTP code N) <generic reason> - " prefix: Docker's own words, trimmed. */
export function withoutHttpCode(message: string): string {
  return message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}

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

type ObjectType = 'image' | 'container' | 'exec';

/**
 * The object a failed request was about: from Docker's own words ("No such image: x", "No such exec
 * instance: …", "Container … is not running"), else from the first word of `what`.
 */
function objectOf(words: string, what: string): { type: ObjectType; name: string } | undefined {
  const m = /no such (image|container|exec)(?: instance)?:\s*(\S+?):?(?:\s|$)/i.exec(words);
  if (m) return { type: m[1].toLowerCase() as ObjectType, name: m[2] };
  const w = /^(image|container|exec) (\S+)/.exec(what);
  return w ? { type: w[1] as ObjectType, name: w[2] } : undefined;
}

const NOT_FOUND_REASON = { image: 'IMAGE_NOT_FOUND', container: 'CONTAINER_NOT_FOUND', exec: 'EXEC_NOT_FOUND' } as const;

function notFoundDetail(words: string, what: string): ErrorDetail<'not_found'> {
  const o = objectOf(words, what) ?? { type: 'container' as const, name: '' };
  return { reason: NOT_FOUND_REASON[o.type], resource: o };
}

function conflictDetail(words: string, what: string): ErrorDetail<'precondition'> {
  const o = objectOf(words, what);
  if (o?.type === 'exec') return { reason: 'EXEC_NOT_RUNNING', resource: o };
  const resource = o && o.type === 'container' ? { resource: o } : {};
  if (/is not paused|cannot resume a running process/i.test(words)) return { reason: 'CONTAINER_NOT_PAUSED', ...resource };
  return /is (already )?paused|cannot pause a paused container/i.test(words)
    ? { reason: 'CONTAINER_PAUSED', ...resource }
    : { reason: 'CONTAINER_NOT_RUNNING', ...resource };
}

/**
 * Docker's answer when the container was not in the state a request needs (paused, not paused, not
 * running, restarting, being removed), which Docker 20.10 sends as 409 or as 500 by request, in its
 * own words or in containerd's task state machine's ("Cannot unpause container …: cannot resume a
 * running process: unknown" when another resume won the race): the caller lost a race with another
 * call or with the process's exit, so it is FAILED_PRECONDITION, never UNAVAILABLE (which tells a
 * client to retry the same thing).
 */
export function isStateConflict(err: unknown): boolean {
  const e = err as DockerodeError;
  if (e?.statusCode === 409) return true;
  return (
    e?.statusCode === 500 &&
    /is (not|already) paused|is not running|is paused|is restarting|marked for removal|removal of container .* is already in progress|cannot exec in a (stopped|paused) (state|container)|container not running|process already finished|cannot (pause|resume) (a (running process|paused container|stopped container)|task in created state)/i.test(
      dockerMessage(err),
    )
  );
}

/**
 * Turns a dockerode failure into an ExecError. `what` names the object for NOT_FOUND
 * ("image busybox:x", "container 3f2a…"), so the message says what is missing.
 */
export function fromDockerError(err: unknown, what: string): ExecError {
  if (err instanceof ExecError) return err as ExecError;
  const e = err as DockerodeError;
  if (e?.code && NO_FDS_ERRNO.has(e.code)) {
    return new ExecError('exhausted', outOfFdsMessage(e.code, ` for a Docker request for ${what}`), {
      reason: 'FILE_DESCRIPTORS_EXHAUSTED',
      metadata: { errno: e.code },
    });
  }
  if (e?.code && UNREACHABLE.has(e.code)) {
    return new ExecError('unavailable', `Docker engine unreachable (${e.code}): ${dockerMessage(err)}`, {
      reason: 'DOCKER_UNREACHABLE',
      metadata: { errno: e.code },
    });
  }
  // A TLS engine (DOCKER_TLS_VERIFY) that refuses our certificate, or whose certificate we refuse.
  if (
    e?.statusCode === undefined &&
    (/^ERR_(SSL|TLS)_|CERT|SELF_SIGNED|LEAF_SIGNATURE/.test(e?.code ?? '') || /\bssl\b|\btls\b|certificate/i.test(dockerMessage(err)))
  ) {
    return new ExecError(
      'unavailable',
      `Docker engine unreachable: TLS handshake failed (${e?.code ?? 'TLS'}: ${dockerMessage(err)}); check DOCKER_CERT_PATH's ca.pem, cert.pem and key.pem against the engine's`,
      { reason: 'DOCKER_UNREACHABLE', metadata: { tls: 'handshake failed' } },
    );
  }
  const words = dockerMessage(err);
  const invalid = clientMistake(e);
  if (invalid) return new ExecError('invalid', `${what}: ${invalid}: ${words}`, mistakeDetail(words, what, invalid));
  if (isStateConflict(err)) return new ExecError('precondition', `${what}: ${words}`, conflictDetail(words, what));
  switch (e?.statusCode) {
    case 404:
      return new ExecError('not_found', `${what} not found: ${words}`, notFoundDetail(words, what));
    case 409:
      return new ExecError('precondition', `${what}: ${words}`, conflictDetail(words, what));
    case 400:
      return new ExecError('invalid', `${what}: ${words}`, { reason: 'REJECTED_BY_DOCKER' });
    case 500:
    case 503:
      return new ExecError('unavailable', `Docker engine error on ${what}: ${words}`, { reason: 'DOCKER_ERROR' });
  }
  return new ExecError('unavailable', `Docker request for ${what} failed: ${words}`, { reason: 'DOCKER_ERROR' });
}

/** An ambiguous prefix, an unknown user, or another request Docker refused as the caller's mistake. */
function mistakeDetail(words: string, what: string, mistake: string): ErrorDetail<'invalid'> {
  const o = objectOf(words, what);
  if (/ambiguous/.test(mistake)) return { reason: 'ID_AMBIGUOUS', ...(o && o.type !== 'image' ? { resource: o } : {}) };
  if (/user \(or group\)/.test(mistake)) return { reason: 'FIELD_INVALID', field: 'start.user' };
  return { reason: 'REJECTED_BY_DOCKER' };
}
