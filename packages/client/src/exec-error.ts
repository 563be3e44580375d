import { Metadata, status as Code, type StatusObject } from '@grpc/grpc-js';
import type { ErrorReason } from './error-reasons';
import { decodeStatusDetails, STATUS_DETAILS_KEY, type FieldViolation, type ResourceInfo } from './status-details';

export { Code };

/**
 * A failed call, as every method of this package rejects with it: the gRPC status (`code`, `details`,
 * `metadata`, as grpc-js's ServiceError has them) and what exec-stream says about it in the status
 * details (AIP-193): a stable `reason` (docs/PROTOCOL.md, "Errors"), the `resource` concerned, whether
 * retrying the same call may help, and the invalid fields. A server or peer that sends no details
 * gives an ExecError without reason; `retryable` is then true for UNAVAILABLE only.
 */
export class ExecError extends Error {
  override readonly name = 'ExecError';
  readonly code: Code;
  /** The status message (grpc-js's `details`). */
  readonly details: string;
  /** The trailers the status came with. */
  readonly metadata: Metadata;
  /** ErrorInfo.reason: one of ERROR_REASONS, or a newer server's reason this client does not know. */
  readonly reason?: ErrorReason | (string & {});
  /** ErrorInfo.domain (`exec-stream`) and ErrorInfo.metadata. */
  readonly domain?: string;
  readonly info: Readonly<Record<string, string>>;
  readonly resource?: ResourceInfo;
  /** Retrying the same call, unchanged, may succeed (after retryDelayMs when the server said). */
  readonly retryable: boolean;
  readonly retryDelayMs?: number;
  readonly fieldViolations: readonly FieldViolation[];

  constructor(code: Code, details: string, metadata: Metadata = new Metadata(), options: { cause?: unknown } = {}) {
    super(`${code} ${Code[code] ?? 'UNKNOWN'}: ${details}`, options);
    this.code = code;
    this.details = details;
    this.metadata = metadata;
    const bin = metadata.get(STATUS_DETAILS_KEY)[0];
    const d = Buffer.isBuffer(bin) ? decodeStatusDetails(bin) : undefined;
    this.reason = d?.reason || undefined;
    this.domain = d?.domain || undefined;
    this.info = d?.metadata ?? {};
    this.resource = d?.resource;
    this.retryDelayMs = d?.retryDelayMs;
    this.fieldViolations = d?.fieldViolations ?? [];
    this.retryable = d ? d.retryDelayMs !== undefined : code === Code.UNAVAILABLE;
  }

  /** The ExecError of a call's status. */
  static fromStatus(s: Pick<StatusObject, 'code' | 'details'> & { metadata?: Metadata | null }): ExecError {
    return new ExecError(s.code, s.details, s.metadata ?? new Metadata());
  }
}

/** A grpc-js error (numeric `code`) as an ExecError; anything else unchanged. */
export function toExecError<E>(err: E): E | ExecError {
  if (err instanceof ExecError) return err;
  const e = err as Partial<StatusObject> | undefined;
  if (!e || typeof e.code !== 'number') return err;
  const out = new ExecError(e.code, e.details ?? (err instanceof Error ? err.message : ''), e.metadata instanceof Metadata ? e.metadata : undefined, {
    cause: err,
  });
  return out;
}
