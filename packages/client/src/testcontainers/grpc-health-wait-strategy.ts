import { credentials, makeGenericClientConstructor, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import type { BoundPorts, WaitStrategy } from 'testcontainers';

const HealthClient = makeGenericClientConstructor(healthService, 'Health');

/** The Check method of grpc.health.v1.Health, as the generic client has it. */
interface HealthStub {
  Check(req: { service: string }, options: CallOptions, cb: (err: ServiceError | null, res?: { status?: string }) => void): unknown;
}

/** One grpc.health.v1 Check of the whole server (service ""): its status name, or the call's error. */
export function checkHealth(address: string, deadlineMs = 2000): Promise<string> {
  const client = new HealthClient(address, credentials.createInsecure());
  return new Promise<string>((resolve) =>
    (client as unknown as HealthStub).Check({ service: '' }, { deadline: Date.now() + deadlineMs }, (err, res) => {
      client.close();
      resolve(err ? `error: ${err.details || err.message}` : String(res?.status ?? 'UNKNOWN'));
    }),
  );
}

/**
 * Waits until the container's service answers SERVING to a gRPC health check (health needs no token),
 * asking every 100 ms; `address` says where, from the container's published ports.
 */
export class GrpcHealthWaitStrategy implements WaitStrategy {
  private startupTimeoutMs = 60_000;
  private timeoutSet = false;

  constructor(private readonly address: (boundPorts: BoundPorts) => string) {}

  async waitUntilReady(_container: unknown, boundPorts: BoundPorts): Promise<void> {
    const address = this.address(boundPorts);
    const until = Date.now() + this.startupTimeoutMs;
    let last = 'no answer';
    while (Date.now() < until) {
      last = await checkHealth(address);
      if (last === 'SERVING') return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`exec-stream at ${address} was not SERVING within ${this.startupTimeoutMs} ms (last health check: ${last})`);
  }

  withStartupTimeout(startupTimeoutMs: number): this {
    this.startupTimeoutMs = startupTimeoutMs;
    this.timeoutSet = true;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return this.timeoutSet;
  }

  getStartupTimeout(): number {
    return this.startupTimeoutMs;
  }
}
