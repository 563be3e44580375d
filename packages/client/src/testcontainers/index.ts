// exec-stream in a container for a consumer's tests (testcontainers-node, an optional peer dependency).
export { ExecStreamContainer, StartedExecStreamContainer, EXEC_STREAM_PORT } from './exec-stream-container';
export { GrpcHealthWaitStrategy, checkHealth } from './grpc-health-wait-strategy';
