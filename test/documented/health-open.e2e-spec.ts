// docs/PROTOCOL.md, auth: with EXEC_AUTH_TOKEN set, grpc.health.v1.Health stays open (no token),
// while the Exec service refuses the same anonymous channel.
import { credentials, loadPackageDefinition, type ChannelCredentials, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { status } from '@grpc/grpc-js';
import { join } from 'node:path';
import { ExecClient, GRPCConnectionManager } from '@exec-stream/client';
import { BASE_IMAGE, startTestServer, type TestServer } from '../support/server';
import { grpcError } from '../support/helpers';

const TOKEN = 'health-test-token-0123456789abcdef';
let server: TestServer;
beforeAll(async () => (server = await startTestServer({ EXEC_AUTH_TOKEN: TOKEN })));
afterAll(() => server?.close());

type HealthClient = Client & { Check(req: object, cb: (e: ServiceError | null, r: { status: string }) => void): void };

function healthClient(): HealthClient {
  const proto = join(__dirname, '..', '..', 'node_modules', 'grpc-health-check', 'proto', 'health', 'v1', 'health.proto');
  const pkg = loadPackageDefinition(loadSync(proto, { enums: String })) as unknown as {
    grpc: { health: { v1: { Health: new (address: string, creds: ChannelCredentials) => HealthClient } } };
  };
  return new pkg.grpc.health.v1.Health(server.address, credentials.createInsecure());
}

it('Health/Check answers SERVING without a token, for the server and for dagger.exec.Exec', async () => {
  const health = healthClient();
  try {
    for (const service of ['', 'dagger.exec.Exec']) {
      const r = await new Promise<{ status: string }>((resolve, reject) => health.Check({ service }, (e, v) => (e ? reject(e) : resolve(v))));
      expect(r.status).toBe('SERVING');
    }
  } finally {
    health.close();
  }
});

it('the same anonymous channel gets UNAUTHENTICATED from Exec', async () => {
  const conn = new GRPCConnectionManager({ address: server.address });
  try {
    const err = await grpcError(new ExecClient(conn).run(BASE_IMAGE, { command: ['true'] }).wait());
    expect(err.code).toBe(status.UNAUTHENTICATED);
  } finally {
    conn.close();
  }
});
