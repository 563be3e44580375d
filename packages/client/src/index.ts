export { GRPCConnectionManager, channelCredentials, type ConnectionOptions, type ClientTlsOptions } from './grpc-connection-manager';
export { ExecClient, ExecSession, type OutputPiece, type ReadyInfo, type ProcessOptions, type AttachOptions } from './exec-client';
export { ResumingSession, type ResumeOptions } from './resuming-session';
export {
  ControlClient,
  LifecycleSubscription,
  type LifecycleEventInfo,
  type ContainerStatusInfo,
  type ResourceUsageInfo,
  type ControlResult,
  type RemoveSessionResult,
} from './control-client';
export { FileClient, COPY_CHUNK_BYTES, type PathStatInfo } from './file-client';
export { ExecError, Code, toExecError } from './exec-error';
export { ERROR_DOMAIN, ERROR_REASONS, isErrorReason, type ErrorReason, type ResourceType } from './error-reasons';
export type { FieldViolation, ResourceInfo } from './status-details';
export type { CallOptions, CallHook, CallInfo } from './call-options';
export {
  AUDIT_ANCHORS_FILE,
  AUDIT_GENESIS_HASH,
  AUDIT_SEGMENT_NAME,
  AUDIT_SHIPPED_PREFIX,
  auditSegmentName,
  openAuditLine,
  sealAuditLine,
  type OpenedAuditLine,
} from './audit/audit-line';
export { verifyAuditTrail, type AuditBreak, type AuditVerification } from './audit/audit-verify';
export { AuditClient, AuditStream, type AuditQuery } from './audit-client';
export { asciicast, AsciicastWriter, sessionResizes, DEFAULT_CAST_SIZE, type RecordedResize } from './recording';
export { heldOutput } from './held-output';
