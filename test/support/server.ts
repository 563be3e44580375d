import 'reflect-metadata';
import type { INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from '../../src/app.module';
import { loadConfig, type ExecConfig } from '../../src/common/config/exec-config';
import { grpcOptions } from '../../src/exec/grpc';
import { serviceContext } from '../../src/service-context';
import { createRootLogger, PinoNestLogger } from '../../src/common/logger';
import { ExecClient, GRPCConnectionManager } from '@exec-stream/client';
import { SessionManager } from '../../src/exec/session';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export const BASE_IMAGE = process.env.EXEC_BASE_IMAGE ?? 'exec-stream/busybox:latest';
export const NOCMD_IMAGE = 'exec-stream/busybox-nocmd:latest';

export { freePort } from './free-port';
import { freePort } from './free-port';

export interface TestServer {
  app: INestMicroservice;
  address: string;
  config: ExecConfig;
  dataDir: string;
  connection: GRPCConnectionManager;
  client: ExecClient;
  close(): Promise<void>;
}

/**
 * The real service, built through TestingModule, listening on a loopback port with the real gRPC
 * transport, against the real Docker engine; and a real client for it.
 */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'exec-stream-e2e-'));
  const address = `127.0.0.1:${port}`;
  // A replica id of its own: servers of concurrent suites on the shared engine never reconcile each other's containers.
  const replicaId = `e2e-${port}-${process.pid}`;
  const config = loadConfig({
    EXEC_LISTEN: address,
    EXEC_DATA_DIR: dataDir,
    EXEC_LOG_LEVEL: process.env.EXEC_LOG_LEVEL ?? 'warn',
    EXEC_REPLICA_ID: replicaId,
    ...env,
  });
  const logger = createRootLogger(config.EXEC_LOG_LEVEL);
  const context = serviceContext(config, logger);
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(context)] }).compile();
  const app = moduleRef.createNestMicroservice(grpcOptions(context));
  app.useLogger(new PinoNestLogger(logger));
  await app.listen();
  const connection = new GRPCConnectionManager({ address, token: config.EXEC_AUTH_TOKEN });
  return {
    app,
    address,
    config,
    dataDir,
    connection,
    client: new ExecClient(connection),
    async close() {
      connection.close();
      // Containers outlive the service by design (re-adoption); tests clean up their own.
      const sessions = app.get(SessionManager);
      const ids = sessions
        .all()
        .map((s) => s.containerId)
        .filter(Boolean);
      // Asynchronously: the service runs in this process, and a call the client just cancelled (a CopyFrom,
      // say) must still be able to let go of Docker's request, which locks its container, while rm waits.
      if (ids.length) {
        await promisify(execFile)('docker', ['rm', '-f', '-v', ...new Set(ids)], { timeout: 120_000 }).catch(() => {
          /* some were already removed (EXEC_REMOVE_CONTAINERS): docker rm -f then exits 1 */
        });
      }
      // Let the sessions of removed containers record their end before their folder goes.
      for (let i = 0; i < 100 && sessions.all().some((s) => s.running); i++) await new Promise((r) => setTimeout(r, 50));
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
