import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { authorizationValue, channelCredentials, type ClientTlsOptions } from '../grpc-connection-manager';
import { execProtoPath, PROTO_LOADER_OPTIONS } from '../proto';

/** The proto package of the Exec service, as Nest's `options.package` wants it. */
export const EXEC_PACKAGE = 'dagger.exec';
/** The service name for ClientGrpc.getService(). */
export const EXEC_SERVICE = 'Exec';

export { authorizationValue };

/**
 * A grpc-js client interceptor that adds `authorization` to every call's metadata (unless the call
 * already has one). Unlike call credentials it works on an insecure channel too; put it in
 * `options.channelOptions.interceptors` of ClientsModule.register.
 */
export function execAuthInterceptor(token: string, scheme: 'bearer' | 'basic' = 'bearer'): Interceptor {
  const value = authorizationValue(token, scheme);
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        if (metadata.get('authorization').length === 0) metadata.set('authorization', value);
        next(metadata, listener);
      },
    });
}

export interface ExecGrpcClientOptions {
  /** host:port of the exec-stream server. */
  address: string;
  /** EXEC_AUTH_TOKEN (or a scoped token) of the server: sent on every call by execAuthInterceptor. */
  token?: string;
  authScheme?: 'bearer' | 'basic';
  /** TLS / mTLS as for GRPCConnectionManager (PEM text or file paths, `true` for the system's roots); unset = plaintext. */
  tls?: ClientTlsOptions | true;
  /** More grpc-js channel options (merged; `interceptors` are added after the auth one). */
  channelOptions?: Record<string, unknown>;
}

/**
 * The `options` of `ClientsModule.register({ transport: Transport.GRPC, options })` for exec-stream:
 * the package's proto file, the loader options its wire types assume (int64 as decimal strings, enums
 * as names, snake_case fields, oneof names), credentials, and the auth interceptor.
 */
export function execGrpcClientOptions(o: ExecGrpcClientOptions) {
  const extra = (o.channelOptions?.interceptors as Interceptor[] | undefined) ?? [];
  const interceptors = o.token?.trim() ? [execAuthInterceptor(o.token, o.authScheme), ...extra] : extra;
  return {
    url: o.address,
    package: EXEC_PACKAGE,
    protoPath: execProtoPath(),
    loader: { ...PROTO_LOADER_OPTIONS },
    credentials: channelCredentials(o.tls),
    channelOptions: { ...o.channelOptions, interceptors },
  };
}
