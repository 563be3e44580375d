import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { createServer } from 'node:net';
import { AbstractStartedContainer, GenericContainer, getContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';
import { ControlClient } from '../control-client';
import { ExecClient } from '../exec-client';
import { FileClient } from '../file-client';
import { GRPCConnectionManager, type ConnectionOptions } from '../grpc-connection-manager';
import { GrpcHealthWaitStrategy } from './grpc-health-wait-strategy';

/** The port the service's image listens on (EXEC_LISTEN=0.0.0.0:50051). */
export const EXEC_STREAM_PORT = 50051;

/** A free TCP port on loopback (for host networking, where the service listens on the host's loopback). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * exec-stream in a container for a consumer's tests, as @testcontainers/postgresql is for Postgres: the
 * service's image, given the host's Docker engine (its socket mounted, its group added) to run commands
 * on, a random token (EXEC_AUTH_TOKEN) and a replica id of its own; start() waits until the gRPC health
 * check says SERVING and hands back a StartedExecStreamContainer with a connected client.
 *
 * By default the service's port 50051 is published (bridge network). `withHostNetwork()` runs it on the
 * host's network, listening on a free loopback port, for engines without a bridge network.
 */
export class ExecStreamContainer extends GenericContainer {
  private token = randomBytes(24).toString('hex');
  private readonly replicaId = `testcontainers-${randomBytes(6).toString('hex')}`;
  private hostNetwork = false;
  private listenPort = EXEC_STREAM_PORT;
  private socketPath = '/var/run/docker.sock';

  constructor(image: string) {
    super(image);
  }

  /** The token calls must carry (≥ 16 characters); default: 48 random hex characters. */
  withToken(token: string): this {
    this.token = token;
    return this;
  }

  /** Runs on the host's network (no port publishing), the service on a free port of 127.0.0.1. */
  withHostNetwork(): this {
    this.hostNetwork = true;
    return this;
  }

  /** The Docker socket on the host that the service drives (default /var/run/docker.sock). */
  withDockerSocket(path: string): this {
    this.socketPath = path;
    return this;
  }

  override async start(): Promise<StartedExecStreamContainer> {
    const runtime = await getContainerRuntimeClient();
    if (this.hostNetwork) {
      this.listenPort = await freePort();
      this.withNetworkMode('host');
    } else this.withExposedPorts(EXEC_STREAM_PORT);
    const gid = statSync(this.socketPath).gid;
    this.hostConfig.GroupAdd = [...(this.hostConfig.GroupAdd ?? []), String(gid)];
    this.withBindMounts([{ source: this.socketPath, target: '/var/run/docker.sock' }]).withEnvironment({
      EXEC_AUTH_TOKEN: this.token,
      EXEC_REPLICA_ID: this.replicaId,
      EXEC_LISTEN: this.hostNetwork ? `127.0.0.1:${this.listenPort}` : `0.0.0.0:${EXEC_STREAM_PORT}`,
    });
    const host = this.hostNetwork ? '127.0.0.1' : runtime.info.containerRuntime.host;
    const address = (port: number) => `${host}:${port}`;
    this.withWaitStrategy(new GrpcHealthWaitStrategy((bound) => address(this.hostNetwork ? this.listenPort : bound.getBinding(EXEC_STREAM_PORT))));
    const started = await super.start();
    return new StartedExecStreamContainer(
      started,
      address(this.hostNetwork ? this.listenPort : started.getMappedPort(EXEC_STREAM_PORT)),
      this.token,
      this.replicaId,
    );
  }
}

/**
 * A running ExecStreamContainer: where it listens, its token and replica id, and clients connected to
 * it. stop() also removes the containers the service ran (label exec-stream.replica=<its replica id>),
 * which outlive it by design (they would be re-adopted by a restart); without Ryuk
 * (TESTCONTAINERS_RYUK_DISABLED=true) that is the whole clean-up.
 */
export class StartedExecStreamContainer extends AbstractStartedContainer {
  private connection?: GRPCConnectionManager;

  constructor(
    started: StartedTestContainer,
    private readonly address: string,
    private readonly token: string,
    private readonly replicaId: string,
  ) {
    super(started);
  }

  getAddress(): string {
    return this.address;
  }

  getToken(): string {
    return this.token;
  }

  /** EXEC_REPLICA_ID of the service: the label value of every container it creates. */
  getReplicaId(): string {
    return this.replicaId;
  }

  /** Options for a GRPCConnectionManager (or ExecClientModule.forRoot) of the service. */
  getConnectionOptions(): ConnectionOptions {
    return { address: this.address, token: this.token };
  }

  /** The one connection the clients below share; closed by stop(). */
  getConnection(): GRPCConnectionManager {
    return (this.connection ??= new GRPCConnectionManager(this.getConnectionOptions()));
  }

  getClient(): ExecClient {
    return new ExecClient(this.getConnection());
  }

  getControlClient(): ControlClient {
    return new ControlClient(this.getConnection());
  }

  getFileClient(): FileClient {
    return new FileClient(this.getConnection());
  }

  protected override containerStopping(): Promise<void> {
    this.connection?.close();
    return Promise.resolve();
  }

  protected override async containerStopped(): Promise<void> {
    const runtime = await getContainerRuntimeClient();
    const left = await runtime.container.dockerode.listContainers({ all: true, filters: { label: [`exec-stream.replica=${this.replicaId}`] } });
    await Promise.all(
      left.map((c) =>
        runtime.container
          .getById(c.Id)
          .remove({ force: true, v: true })
          .catch(() => undefined),
      ),
    );
  }
}
