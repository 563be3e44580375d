import type { MethodDefinition, Server, ServiceDefinition } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { Transport, type GrpcOptions } from '@nestjs/microservices';
import { HealthImplementation } from 'grpc-health-check';
import { authInterceptor } from '../auth/auth.interceptor';
import { callerQuotesInterceptor } from './caller-quotes.interceptor';
import { TokenStore } from '../auth/token-store';
import { serverCredentials } from './server-credentials';
import { grpcMetricsInterceptor } from '../../../metrics';
import type { ServiceContext } from '../../../service-context';
import { execProtoPath, PROTO_LOADER_OPTIONS } from '@exec-stream/client/wire';
import { reflectionPackage } from './reflection-descriptors';
import { totalDeserializers, undecodableRequestInterceptor } from './undecodable-request';
import { drainingInterceptor } from './draining.interceptor';
import { logListeningErrors } from './listening-errors';
import { installFramedSerializer } from '../wire/framed-serializer';

export const EXEC_PACKAGE = 'dagger.exec';

/** Counts every call by method and status code when EXEC_METRICS_LISTEN is set (docs/METRICS.md). */
function metricsInterceptors({ metrics }: ServiceContext) {
  return metrics ? [grpcMetricsInterceptor(metrics)] : [];
}

/**
 * Lets responses of the streaming methods be written as already-encoded bytes: Session output chunks
 * are encoded once and the same Buffer goes to every client (src/exec/output), and a call forwarded to
 * another replica passes on that replica's messages as they came (src/exec/cluster). Message objects
 * are encoded as usual.
 */
function passPreEncoded(pkg: PackageDefinition): void {
  const service = pkg[`${EXEC_PACKAGE}.Exec`] as ServiceDefinition;
  for (const name of ['Session', 'CopyFrom', 'ContainerLifecycle']) {
    const method = service[name] as MethodDefinition<unknown, unknown>;
    const encode = method.responseSerialize;
    method.responseSerialize = (value: unknown) => (Buffer.isBuffer(value) ? value : encode(value));
  }
}

/**
 * The Nest gRPC transport for the Exec service of `context`: auth interceptor, undecodable requests
 * answered INVALID_ARGUMENT, health and reflection attached.
 */
export function grpcOptions(context: ServiceContext): GrpcOptions {
  const { config, logger, health } = context;
  // EXEC_AUTH_TOKEN and EXEC_AUTH_TOKENS_FILE (followed on change); the interceptor also gives each call its context and log line.
  const tokens = new TokenStore(config.EXEC_AUTH_TOKEN, config.EXEC_AUTH_TOKENS_FILE, logger.child({ component: 'auth' })).watch();
  return {
    transport: Transport.GRPC,
    options: {
      url: config.EXEC_LISTEN,
      package: EXEC_PACKAGE,
      protoPath: execProtoPath(),
      loader: PROTO_LOADER_OPTIONS,
      gracefulShutdown: false,
      // TLS / mTLS from EXEC_TLS_* files, re-read on change (server-credentials.ts); insecure without them.
      credentials: serverCredentials(config),
      // grpc-js server options pass through channelOptions; interceptors run before any handler.
      channelOptions: {
        // The metrics interceptor first (innermost): it also counts the statuses the others send.
        interceptors: [
          ...metricsInterceptors(context),
          authInterceptor(tokens, logger.child({ component: 'call' }), context.audit),
          callerQuotesInterceptor,
          undecodableRequestInterceptor,
          drainingInterceptor(health),
        ],
      },
      onLoadPackageDefinition: (pkg: object, server: Server) => {
        passPreEncoded(pkg as PackageDefinition);
        // Output messages made with their frame are written as they are, not copied once per client.
        if (!installFramedSerializer()) logger.warn({}, 'grpc-js frames messages differently: output is copied into a new frame per client');
        // An accept that fails once listening (descriptors run out) is logged, not the end of the process.
        if (!logListeningErrors(server, logger)) logger.warn({}, 'grpc-js sets up its servers differently: an accept error would end the process');
        totalDeserializers((pkg as PackageDefinition)[`${EXEC_PACKAGE}.Exec`] as ServiceDefinition);
        const healthService = new HealthImplementation({ '': 'SERVING', [`${EXEC_PACKAGE}.Exec`]: 'SERVING' });
        healthService.addToServer(server);
        // NOT_SERVING while a problem stands (e.g. the data directory cannot be written: DataDirHealth).
        health.bind(healthService, ['', `${EXEC_PACKAGE}.Exec`]);
        // Reflection serves the buf-compiled descriptors of Exec and Health, not proto-loader's rendering.
        new ReflectionService(reflectionPackage() as never).addToServer(server);
      },
    },
  };
}
