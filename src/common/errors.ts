import { Metadata, status } from '@grpc/grpc-js';
import {
  decodeStatusDetails,
  encodeStatusDetails,
  ERROR_DOMAIN,
  ERROR_REASONS,
  isErrorReason,
  STATUS_DETAILS_KEY,
  type ErrorReason,
  type ReasonWithCode,
  type ResourceType,
} from '@exec-stream/client/wire';

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

const GRPC_CODE = {
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
} as const satisfies Record<ErrorKind, status>;

/**
 * What a client can act on besides the code (sent as status details, AIP-193; docs/PROTOCOL.md's
 * error table): a reason of ERROR_REASONS that goes with the kind's code, the object concerned, the
 * invalid fields, facts as strings, and when a retry may help.
 */
export interface ErrorDetail<K extends ErrorKind = ErrorKind> {
  reason: ReasonWithCode<(typeof GRPC_CODE)[K]>;
  resource?: { type: ResourceType; name: string; owner?: string };
  /** The request field at fault (BadRequest.FieldViolation; the message is its description). */
  field?: string;
  /** Several fields at fault, each with its own description. */
  violations?: Array<{ field: string; description: string }>;
  /** ErrorInfo.metadata (a setting's name, a scope, a registry, …). */
  metadata?: Record<string, string>;
  /** RetryInfo's delay; a retryable reason without one says 1 s. */
  retryAfterMs?: number;
}

/**
 * The kind of a status another exec-stream replica answered (a forwarded call keeps its code). Codes a
 * replica never sends on purpose (CANCELLED, DEADLINE_EXCEEDED, UNKNOWN…) are `unavailable`: the replica
 * did not give an answer.
 */
export function kindOfGrpcCode(code: status): ErrorKind {
  const found = (Object.keys(GRPC_CODE) as ErrorKind[]).find((k) => GRPC_CODE[k] === code);
  return found ?? 'unavailable';
}

/**
 * The one error type of the service: a kind (its gRPC code), a message, and the details a client can
 * act on (ErrorDetail), whose reason must go with the kind (tsc checks it at every `new`). `instanceof`
 * narrows to ExecError<any>: write `err as ExecError` where that matters.
 */
export class ExecError<K extends ErrorKind = ErrorKind> extends Error {
  /** Set where the error is raised; a caller that knows more may add it later (withDetail). */
  readonly detail?: ErrorDetail;

  constructor(
    readonly kind: K,
    message: string,
    detail?: ErrorDetail<K>,
  ) {
    super(message);
    this.name = 'ExecError';
    this.detail = detail as ErrorDetail | undefined;
  }

  get grpcCode(): status {
    return GRPC_CODE[this.kind];
  }
}

/** Details by kind, for a caller that knows what an error from below is about. */
export type DetailByKind = { [K in ErrorKind]?: ErrorDetail<K> };

/**
 * Gives `err` (an ExecError raised without details) the detail its caller knows for its kind; returns
 * it. An error that has details, or is no ExecError, is returned unchanged.
 */
export function withDetail<E>(err: E, byKind: DetailByKind): E {
  if (err instanceof ExecError && !err.detail) (err as { detail?: ErrorDetail }).detail = byKind[(err as ExecError).kind] as ErrorDetail | undefined;
  return err;
}

export interface GrpcStatusError {
  code: status;
  details: string;
  /** Trailers: grpc-status-details-bin with the google.rpc.Status of the error's details. */
  metadata: Metadata;
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

/**
 * The detail another exec-stream replica sent with a status (its grpc-status-details-bin), so that a
 * forwarded call's error keeps its reason; undefined when it sent none or a reason that is not ours.
 */
export function detailOfTrailers(code: status, metadata: Metadata | undefined): ErrorDetail | undefined {
  const bin = metadata?.get(STATUS_DETAILS_KEY)[0];
  const d = Buffer.isBuffer(bin) ? decodeStatusDetails(bin) : undefined;
  if (!d || !isErrorReason(d.reason) || ERROR_REASONS[d.reason].code !== code) return undefined;
  const type = d.resource?.type;
  return {
    reason: d.reason,
    ...(d.resource && (ERROR_REASONS[d.reason].resources as readonly string[]).includes(type ?? '')
      ? { resource: { type: type as ResourceType, name: d.resource.name, owner: d.resource.owner } }
      : {}),
    ...(d.fieldViolations.length ? { violations: d.fieldViolations } : {}),
    metadata: d.metadata,
    ...(d.retryDelayMs !== undefined ? { retryAfterMs: d.retryDelayMs } : {}),
  };
}

/** `reason` when it is one of ERROR_REASONS and goes with the status `code` (a reason read back from a record); else undefined. */
export function reasonWithCode(code: status, reason: string | undefined): ErrorReason | undefined {
  return isErrorReason(reason) && ERROR_REASONS[reason].code === code ? reason : undefined;
}

/** Bounds on what status details carry from one error, so that the trailer stays small. */
const MAX_VIOLATIONS = 16;
const MAX_DETAIL_BYTES = 256;

/** Trailers carrying `detail` as a google.rpc.Status (ErrorInfo, ResourceInfo, RetryInfo, BadRequest). */
export function statusTrailers(code: status, message: string, detail?: ErrorDetail): Metadata {
  const metadata = new Metadata();
  if (!detail) return metadata;
  const cut = (v: string) => boundMessage(v, MAX_DETAIL_BYTES);
  const retry = ERROR_REASONS[detail.reason as ErrorReason].retry;
  const violations = detail.violations ?? (detail.field ? [{ field: detail.field, description: message }] : []);
  const bin = encodeStatusDetails(code, message, {
    reason: detail.reason,
    domain: ERROR_DOMAIN,
    metadata: Object.fromEntries(Object.entries(detail.metadata ?? {}).map(([k, v]) => [k, cut(v)])),
    resource: detail.resource && { type: detail.resource.type, name: cut(detail.resource.name), owner: detail.resource.owner && cut(detail.resource.owner) },
    retryDelayMs: detail.retryAfterMs ?? (retry ? 1000 : undefined),
    fieldViolations: violations.slice(0, MAX_VIOLATIONS).map((v) => ({ field: cut(v.field), description: cut(v.description) })),
  });
  metadata.set(STATUS_DETAILS_KEY, bin);
  return metadata;
}

/** The status of an error; answered even when its details cannot be encoded (then it goes without them). */
function grpcStatus(code: status, message: string, detail?: ErrorDetail): GrpcStatusError {
  const details = boundMessage(message);
  let metadata: Metadata;
  try {
    metadata = statusTrailers(code, details, detail);
  } catch {
    metadata = new Metadata();
  }
  return { code, details, metadata };
}

/** errno codes of a process out of file descriptors, and of a full disk: a limit was reached, not a bug. */
export const NO_FDS_ERRNO: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE']);
export const DISK_FULL_ERRNO: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

/** The errno code of a thrown value ('EMFILE', 'ENOSPC' …); undefined when it has none. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | null | undefined)?.code;
  return typeof code === 'string' && code ? code : undefined;
}

/** What a person reads when the process ran out of fds; `where` ends the first clause (": X could not be opened"). */
export function outOfFdsMessage(code: string, where: string): string {
  return `exec-stream has run out of file descriptors (${code}: too many open files)${where}; raise its limit (ulimit -n) or let sessions end`;
}

/** Any thrown value → a status a client can act on. Unexpected errors become INTERNAL, never UNKNOWN. */
export function toGrpcStatus(err: unknown): GrpcStatusError {
  if (err instanceof ExecError) return grpcStatus(err.grpcCode, err.message, err.detail);
  const message = boundMessage(err instanceof Error ? err.message : String(err));
  // Out of file descriptors or disk space anywhere: a limit was reached, not a bug.
  const code = errnoOf(err);
  if (code && NO_FDS_ERRNO.has(code)) {
    return grpcStatus(status.RESOURCE_EXHAUSTED, outOfFdsMessage(code, `: ${message}`), { reason: 'FILE_DESCRIPTORS_EXHAUSTED' });
  }
  if (code && DISK_FULL_ERRNO.has(code)) return grpcStatus(status.RESOURCE_EXHAUSTED, `no space left on device (${message})`, { reason: 'DATA_DIR_FULL' });
  return grpcStatus(status.INTERNAL, `internal error: ${message}`, { reason: 'INTERNAL' });
}
