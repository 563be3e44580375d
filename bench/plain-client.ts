import { credentials, loadPackageDefinition, type ClientDuplexStream, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { execProtoPath } from '@exec-stream/client/wire';

/**
 * A plain grpc-js client of the Session call, as an application that loads proto/exec.proto itself
 * would write it (and as Nest's ClientsModule does): default channel options, so HTTP/2's receive
 * window is grpc-js's 64 KiB, and protobufjs decodes every message. The bench's other clients use
 * ExecClient (a 4 MiB window, docs/CLIENTS.md).
 */
type SessionStub = { Session(): ClientDuplexStream<object, PlainResponse>; close(): void };
interface PlainResponse {
  ready?: { container_id?: string };
  stdout?: Buffer;
  stderr?: Buffer;
  exit?: number;
}

let ctor: ServiceClientConstructor | undefined;

export class PlainGrpcClient {
  private readonly stub: SessionStub;

  constructor(address: string) {
    if (!ctor) {
      const pkg = loadPackageDefinition(loadSync(execProtoPath(), { keepCase: true, longs: String, defaults: false, oneofs: true }));
      ctor = ((pkg.dagger as Record<string, unknown>).exec as Record<string, unknown>).Exec as ServiceClientConstructor;
    }
    this.stub = new ctor(address, credentials.createInsecure()) as unknown as SessionStub;
  }

  /** Runs `command` in a new container of `image` and reads its stdout to the exit: bytes and exit code. */
  run(image: string, command: string[], onReady?: (containerId: string) => void): Promise<{ bytes: number; exitCode: number }> {
    return new Promise((resolve, reject) => {
      const call = this.stub.Session();
      let bytes = 0;
      let exitCode: number | undefined;
      call.on('data', (m: PlainResponse) => {
        if (m.ready?.container_id) onReady?.(m.ready.container_id);
        if (m.stdout) bytes += m.stdout.length;
        if (m.exit !== undefined) exitCode = m.exit;
      });
      call.on('error', reject);
      call.on('end', () => (exitCode === undefined ? reject(new Error(`call ended without exit after ${bytes} bytes`)) : resolve({ bytes, exitCode })));
      call.write({ start: { image, command } });
    });
  }

  close(): void {
    this.stub.close();
  }
}
