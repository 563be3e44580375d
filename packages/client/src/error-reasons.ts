import { status as Code } from '@grpc/grpc-js';

/** ErrorInfo.domain of every error exec-stream sends (AIP-193: the service that defines the reasons). */
export const ERROR_DOMAIN = 'exec-stream';

/** What ResourceInfo.resource_type names: the kind of object that is missing, conflicting or in the wrong state. */
export type ResourceType = 'image' | 'container' | 'session' | 'exec' | 'path';

interface ReasonEntry {
  /** The gRPC status code the reason always comes with. */
  readonly code: Code;
  /** ResourceInfo.resource_type it may come with (empty: no ResourceInfo). */
  readonly resources: readonly ResourceType[];
  /** Sent with RetryInfo: the same call may succeed later, unchanged. */
  readonly retry: boolean;
}

/**
 * Every ErrorInfo.reason exec-stream sends, with its code, its resource and whether it is retryable:
 * the one list; docs/PROTOCOL.md's error table says when each happens (a test holds the two equal).
 * Reasons are stable: a program may branch on them; the message is for people.
 */
export const ERROR_REASONS = {
  FIELD_INVALID: { code: Code.INVALID_ARGUMENT, resources: [], retry: false },
  UNEXPECTED_MESSAGE: { code: Code.INVALID_ARGUMENT, resources: [], retry: false },
  MESSAGE_UNDECODABLE: { code: Code.INVALID_ARGUMENT, resources: [], retry: false },
  ID_AMBIGUOUS: { code: Code.INVALID_ARGUMENT, resources: ['container', 'exec'], retry: false },
  REJECTED_BY_DOCKER: { code: Code.INVALID_ARGUMENT, resources: [], retry: false },
  REQUEST_ID_CONFLICT: { code: Code.ALREADY_EXISTS, resources: ['session'], retry: false },
  IMAGE_NOT_FOUND: { code: Code.NOT_FOUND, resources: ['image'], retry: false },
  CONTAINER_NOT_FOUND: { code: Code.NOT_FOUND, resources: ['container'], retry: false },
  SESSION_NOT_FOUND: { code: Code.NOT_FOUND, resources: ['session'], retry: false },
  EXEC_NOT_FOUND: { code: Code.NOT_FOUND, resources: ['exec'], retry: false },
  PATH_NOT_FOUND: { code: Code.NOT_FOUND, resources: ['path'], retry: false },
  CONTAINER_NOT_RUNNING: { code: Code.FAILED_PRECONDITION, resources: ['container'], retry: false },
  CONTAINER_PAUSED: { code: Code.FAILED_PRECONDITION, resources: ['container'], retry: false },
  CONTAINER_NOT_PAUSED: { code: Code.FAILED_PRECONDITION, resources: ['container'], retry: false },
  EXEC_NOT_RUNNING: { code: Code.FAILED_PRECONDITION, resources: ['exec'], retry: false },
  EXEC_NOT_SIGNALLABLE: { code: Code.FAILED_PRECONDITION, resources: ['exec'], retry: false },
  STDIN_NOT_OPEN: { code: Code.FAILED_PRECONDITION, resources: ['session'], retry: false },
  NOT_A_TTY: { code: Code.FAILED_PRECONDITION, resources: ['session'], retry: false },
  READ_ONLY_ROOTFS: { code: Code.FAILED_PRECONDITION, resources: ['container'], retry: false },
  SESSION_RUNNING: { code: Code.FAILED_PRECONDITION, resources: ['session'], retry: false },
  SCOPE_MISSING: { code: Code.PERMISSION_DENIED, resources: [], retry: false },
  CONTAINER_NOT_MANAGED: { code: Code.PERMISSION_DENIED, resources: ['container'], retry: false },
  NOT_SESSION_WRITER: { code: Code.PERMISSION_DENIED, resources: ['session'], retry: false },
  TOKEN_INVALID: { code: Code.UNAUTHENTICATED, resources: [], retry: false },
  REGISTRY_AUTH_FAILED: { code: Code.UNAUTHENTICATED, resources: ['image'], retry: false },
  SESSION_LIMIT: { code: Code.RESOURCE_EXHAUSTED, resources: [], retry: true },
  CLIENT_LIMIT: { code: Code.RESOURCE_EXHAUSTED, resources: ['session'], retry: true },
  DATA_DIR_FULL: { code: Code.RESOURCE_EXHAUSTED, resources: [], retry: true },
  FILE_DESCRIPTORS_EXHAUSTED: { code: Code.RESOURCE_EXHAUSTED, resources: [], retry: true },
  AUDIT_TRAIL_FULL: { code: Code.RESOURCE_EXHAUSTED, resources: [], retry: true },
  DOCKER_UNREACHABLE: { code: Code.UNAVAILABLE, resources: [], retry: true },
  DOCKER_TIMEOUT: { code: Code.UNAVAILABLE, resources: [], retry: true },
  DOCKER_ERROR: { code: Code.UNAVAILABLE, resources: [], retry: true },
  DATA_DIR_UNWRITABLE: { code: Code.UNAVAILABLE, resources: [], retry: true },
  AUDIT_TRAIL_UNWRITABLE: { code: Code.UNAVAILABLE, resources: [], retry: true },
  REGISTRY_UNAVAILABLE: { code: Code.UNAVAILABLE, resources: ['image'], retry: true },
  REGISTRY_AUTH_FILE_UNREADABLE: { code: Code.UNAVAILABLE, resources: [], retry: true },
  REPLICA_UNAVAILABLE: { code: Code.UNAVAILABLE, resources: [], retry: true },
  SHUTTING_DOWN: { code: Code.UNAVAILABLE, resources: [], retry: true },
  OUTCOME_LOST: { code: Code.UNAVAILABLE, resources: ['session'], retry: false },
  CLIENT_CANCELLED: { code: Code.ABORTED, resources: [], retry: false },
  COPY_STALLED: { code: Code.ABORTED, resources: ['path'], retry: false },
  OUTPUT_INCOMPLETE: { code: Code.ABORTED, resources: ['session'], retry: false },
  OUTPUT_DAMAGED: { code: Code.DATA_LOSS, resources: ['session'], retry: false },
  INTERNAL: { code: Code.INTERNAL, resources: [], retry: false },
} as const satisfies Record<string, ReasonEntry>;

/** A reason exec-stream sends (ErrorInfo.reason). */
export type ErrorReason = keyof typeof ERROR_REASONS;

/** The reasons that come with gRPC status `C`. */
export type ReasonWithCode<C extends Code> = { [R in ErrorReason]: (typeof ERROR_REASONS)[R]['code'] extends C ? R : never }[ErrorReason];

/** True for a reason of this list (a newer server may send one this client does not know yet). */
export function isErrorReason(value: unknown): value is ErrorReason {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_REASONS, value);
}
