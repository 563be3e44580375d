// The wire: generated message types (gen/, from proto/exec.proto), where the proto file is, the loader
// options that match those types, the one flow-control wait, and the tar framing a copy is checked
// against. Shared by the service and the client.
export type * from './gen';
export { execProtoPath, PROTO_LOADER_OPTIONS } from './proto';
export { waitForDrain, type DrainSource } from './wait-for-drain';
export { TarFraming, TarFramingError, quoteEntryName, type TarEntryHeader } from './tar-framing';
