export { GRPCConnectionManager, type ConnectionOptions } from './grpc-connection-manager';
export { ExecClient, ExecSession, type OutputPiece, type ReadyInfo, type ProcessOptions, type AttachOptions } from './exec-client';
