import { status } from '@grpc/grpc-js';

/**
 * What went wrong, in the service's own words. Domain code (executor, sessions) throws these; only the
 * gRPC edge turns them into status codes, so the mapping lives in one place and nothing leaves as
 * UNKNOWN.
 */
export type ErrorKind =
  | 'invalid'
  | 'not_found'
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

/** Any thrown value → a status a client can act on. Unexpected errors become INTERNAL, never UNKNOWN. */
export function toGrpcStatus(err: unknown): GrpcStatusError {
  if (err instanceof ExecError) return { code: err.grpcCode, details: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { code: status.INTERNAL, details: `internal error: ${message}` };
}
