// The wire: generated message types (gen/, from proto/exec.proto and google/rpc), where the proto file is,
// the loader options that match those types, the one flow-control wait, the tar framing a copy is
// checked against, and the status details of the rich error model (the reason list and their codec).
// Shared by the service and the client.
export type * from './gen';
export { execProtoPath, PROTO_LOADER_OPTIONS } from './proto';
export { waitForDrain, type DrainSource } from './wait-for-drain';
export { TarFraming, TarFramingError, quoteEntryName, type TarEntryHeader } from './tar-framing';
export { ERROR_DOMAIN, ERROR_REASONS, isErrorReason, type ErrorReason, type ReasonWithCode, type ResourceType } from './error-reasons';
export { decodeStatusDetails, encodeStatusDetails, STATUS_DETAILS_KEY, type ErrorDetails, type FieldViolation, type ResourceInfo } from './status-details';
