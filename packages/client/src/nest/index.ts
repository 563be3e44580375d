// The Nest side of the client: ExecClientModule (an injectable ExecClient / ControlClient) and the
// options that make Nest's own ClientsModule (Transport.GRPC) work against exec-stream.
export { ExecClientModule, ModuleConnection } from './exec-client.module';
export {
  EXEC_CLIENT_MODULE_OPTIONS,
  type ExecClientModuleOptions,
  type ExecClientModuleForRootOptions,
  type ExecClientModuleAsyncOptions,
} from './exec-client.module-definition';
export { execGrpcClientOptions, execAuthInterceptor, authorizationValue, EXEC_PACKAGE, EXEC_SERVICE, type ExecGrpcClientOptions } from './grpc-client-options';
export { execProtoPath, PROTO_LOADER_OPTIONS } from '../proto';
export { execGrpcService, type ExecGrpcService, type GrpcServiceSource } from './exec-grpc-service';
