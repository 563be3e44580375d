import './node-version';
import 'reflect-metadata';
import { setFlagsFromString } from 'node:v8';
// Counts short-lived output Buffers in V8's global heap limit, so they do not force a full GC every few
// MB (why and by how much: docs/BENCHMARKS.md). Set before anything allocates.
setFlagsFromString('--external-memory-accounted-in-global-limit');
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { AppModule } from './app.module';
import { loadConfig, trimmedSettings } from './common/config/exec-config';
import { grpcOptions } from './exec/grpc';
import { createRootLogger, PinoNestLogger } from './common/logger';
import { serviceContext } from './service-context';
import { enableCollector } from './common/collector';
import { startQuietCollections } from './common/quiet-collections';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`exec-stream: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const logger = createRootLogger(config.EXEC_LOG_LEVEL);
  for (const name of trimmedSettings())
    logger.warn({ setting: name }, `${name}: surrounding whitespace (e.g. a trailing newline from a file or Secret) removed`);
  // CopyFrom's socket reads are freed by young collections every few MB (young-collections.ts); a burst's
  // Buffers by one full collection once the process is quiet again (quiet-collections.ts).
  if (enableCollector()) startQuietCollections();
  else logger.warn({}, 'V8 gives no gc() to JS: CopyFrom leaves its reads to the collector, a burst its Buffers (more memory)');
  const context = serviceContext(config, logger);
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(AppModule.forRoot(context), {
    ...grpcOptions(context),
    logger: new PinoNestLogger(logger),
  });
  // A safety net, not a mechanism: a promise nobody observed must not take every session down with it.
  process.on('unhandledRejection', (err) => logger.error({ err: (err as Error)?.stack ?? String(err) }, 'unhandled rejection'));
  // After the drain Nest re-raises the signal to end the process; as PID 1 (the container image, no
  // init) the kernel ignores that re-raise, so there it ends with process.exit(0) instead.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: process.pid === 1 });
  try {
    await app.listen();
  } catch (err) {
    // A taken port, a bad address, a data directory that cannot be made: say which, and stop, rather than a
    // stack trace (the error names what failed: grpc-js the address, the metrics server its variable, fs the path).
    logger.fatal({ listen: config.EXEC_LISTEN, dataDir: config.EXEC_DATA_DIR, err: (err as Error).message }, 'cannot start');
    await app.close().catch(() => undefined);
    process.exit(1);
  }
  logger.info(
    { listen: config.EXEC_LISTEN, dataDir: config.EXEC_DATA_DIR, auth: !!config.EXEC_AUTH_TOKEN || !!config.EXEC_AUTH_TOKENS_FILE, node: process.version },
    'exec-stream listening',
  );
}

void bootstrap();
