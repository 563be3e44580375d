/** The gRPC edge of the data path: proto messages in, domain calls out (controller, call handlers, Start validation, server options, auth, errors to status codes, health and reflection). */
export * from './audit-events.handler';
export * from './auth.interceptor';
export * from './call-audit';
export * from './call-context';
export * from './copy-files.handler';
export * from './exec.controller';
export * from './grpc-exception.filter';
export * from './grpc-options';
export * from './lifecycle-call.handler';
export * from './list-sessions.handler';
export * from './reflection-descriptors';
export * from './session-call.handler';
export * from './session-resizes.handler';
export * from './start.dto';
export * from './token-store';
export * from './undecodable-request';
