import { status } from '@grpc/grpc-js';

/**
 * What went wrong, in the service's own words. Domain code (executor, sessions) throws these; only the
 * gRPC edge turns them into status codes, so the mapping lives in one place and nothing leaves as
 * UNKNOWN.
 */
export type ErrorKind =
  | 'invalid'
  | 'not_found'
  | 'already_exists'
  | 'precondition'
  | 'permission'
  | 'unauthenticated'
  | 'exhausted'
  | 'unavailable'
  | 'aborted'
  | 'unimplemented'
  | 'data_loss'
  | 'internal';

const GRPC_CODE: Record<ErrorKind, status> = {
  invalid: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  already_exists: status.ALREADY_EXISTS,
  precondition: status.FAILED_PRECONDITION,
  permission: status.PERMISSION_DENIED,
  unauthenticated: status.UNAUTHENTICATED,
  exhausted: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  aborted: status.ABORTED,
  unimplemented: status.UNIMPLEMENTED,
  data_loss: status.DATA_LOSS,
  internal: status.INTERNAL,
};

/**
 * The kind of a status another exec-stream replica answered (a forwarded call keeps its code). Codes a
 * replica never sends on purpose (CANCELLED, DEADLINE_EXCEEDED, UNKNOWN…) are `unavailable`: the replica
 * did not give an answer.
 */
export function kindOfGrpcCode(code: status): ErrorKind {
  const found = (Object.keys(GRPC_CODE) as ErrorKind[]).find((k) => GRPC_CODE[k] === code);
  return found ?? 'unavailable';
}

export class ExecError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'ExecError';
  }

  get grpcCode(): status {
    return GRPC_CODE[this.kind];
  }
}

export interface GrpcStatusError {
  code: status;
  details: string;
}

/** The most UTF-8 bytes of a status message: it travels in an HTTP/2 trailer, which must stay small. */
export const MAX_STATUS_MESSAGE_BYTES = 2048;

/** `message` cut to MAX_STATUS_MESSAGE_BYTES (on a character boundary), saying how long it was. */
export function boundMessage(message: string, max = MAX_STATUS_MESSAGE_BYTES): string {
  const bytes = Buffer.byteLength(message);
  if (bytes <= max) return message;
  const kept = Buffer.from(message)
    .subarray(0, max - 40)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
  return `${kept}… (${bytes} bytes, cut)`;
}

/** Any thrown value → a status a client can act on. Unexpected errors become INTERNAL, never UNKNOWN. */
export function toGrpcStatus(err: unknown): GrpcStatusError {
  if (err instanceof ExecError) return { code: err.grpcCode, details: boundMessage(err.message) };
  const message = boundMessage(err instanceof Error ? err.message : String(err));
  // Out of file descriptors or disk space anywhere: a limit was reached, not a bug.
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EMFILE' || code === 'ENFILE') return { code: status.RESOURCE_EXHAUSTED, details: `exec-stream has run out of file descriptors (${message})` };
  if (code === 'ENOSPC') return { code: status.RESOURCE_EXHAUSTED, details: `no space left on device (${message})` };
  return { code: status.INTERNAL, details: `internal error: ${message}` };
}
