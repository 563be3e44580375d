/**
 * ExecClientModule (@exec-stream/client/nest) in a consumer Nest application built with
 * Test.createTestingModule, against the real service (real gRPC on loopback, real Docker): forRoot and
 * forRootAsync (the real @nestjs/config, global), run, attach, status, lifecycle, token auth, TLS, and
 * the channel closed by app.close().
 */
import 'reflect-metadata';
import { connectivityState, status as Code } from '@grpc/grpc-js';
import { Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test, type TestingModule } from '@nestjs/testing';
import { ControlClient, ExecClient, GRPCConnectionManager } from '@exec-stream/client';
import { ExecClientModule } from '@exec-stream/client/nest';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';
import { grpcError, sha256 } from './support/helpers';
import { backgroundReader } from './support/conditions';
import { makeCa, makeCert } from './support/certs';
import { subscriptionsRegistered } from './support/lifecycle';

const TOKEN = 'nest-module-token-0123456789abcdef';
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ EXEC_AUTH_TOKEN: TOKEN });
});
afterAll(async () => {
  await server?.close();
});

/** The consumer's own service: what a Nest application that uses exec-stream would write. */
@Injectable()
class Jobs {
  constructor(
    readonly exec: ExecClient,
    readonly control: ControlClient,
  ) {}
}

/** A feature module that does not import ExecClientModule: it sees ExecClient only when the module is global. */
@Module({ providers: [Jobs], exports: [Jobs] })
class FeatureModule {}

const SCRIPT = 'head -c 300000 /dev/zero | tr "\\0" a; echo err >&2; exit 3';
const EXPECTED_STDOUT = sha256(Buffer.alloc(300_000, 'a'));

describe('ExecClientModule.forRoot', () => {
  let app: TestingModule;
  beforeAll(async () => {
    app = await Test.createTestingModule({
      imports: [ExecClientModule.forRoot({ address: server.address, token: TOKEN })],
      providers: [Jobs],
    }).compile();
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('injects an ExecClient that runs a command and attaches to its session: same bytes, the exit code', async () => {
    const { exec } = app.get(Jobs);
    const run = exec.run(BASE_IMAGE, { command: ['sh', '-c', SCRIPT] });
    const { sessionId } = await run.ready;
    const first = await run.collect();
    expect([sha256(first.stdout), first.stderr.toString(), first.exitCode]).toEqual([EXPECTED_STDOUT, 'err\n', 3]);
    const again = await exec.attach({ sessionId }).collect();
    expect([sha256(again.stdout), again.stderr.toString(), again.exitCode]).toEqual([EXPECTED_STDOUT, 'err\n', 3]);
  });

  it('injects a ControlClient: status of a running container, lifecycle events of its kill', async () => {
    const { exec, control } = app.get(Jobs);
    const run = exec.run(BASE_IMAGE, { command: ['sh', '-c', 'echo up; sleep 60'] });
    const { containerId } = await run.ready;
    const out = backgroundReader(run.output());
    await out.until('up');
    expect(await control.status(containerId)).toMatchObject({ containerId, status: 'running' });
    const events = control.lifecycle({ containerId });
    await subscriptionsRegistered(server.app, containerId, events); // before the kill: its events must reach the subscription
    await control.signal(containerId, 'SIGKILL');
    const seen = await events.waitFor((e) => e.type === 'exited');
    events.close();
    expect(seen.map((e) => e.type)).toEqual(expect.arrayContaining(['killed', 'exited']));
    await out.done;
    expect(await run.exit).toBe(137);
  });
});

describe('ExecClientModule.forRootAsync (isGlobal, options from @nestjs/config)', () => {
  it('a feature module that does not import it gets an ExecClient that works', async () => {
    const app = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ EXEC_ADDR: server.address, EXEC_AUTH_TOKEN: TOKEN })] }),
        ExecClientModule.forRootAsync({
          isGlobal: true,
          imports: [ConfigModule],
          inject: [ConfigService],
          // As docs/CLIENTS.md: get() may be undefined, so getOrThrow for the address.
          useFactory: (config: ConfigService) => ({ address: config.getOrThrow<string>('EXEC_ADDR'), token: config.get<string>('EXEC_AUTH_TOKEN') }),
        }),
        FeatureModule,
      ],
    }).compile();
    await app.init();
    try {
      const { stdout, exitCode } = await app
        .get(Jobs)
        .exec.run(BASE_IMAGE, { command: ['sh', '-c', 'echo async; exit 5'] })
        .collect();
      expect([stdout.toString(), exitCode]).toEqual(['async\n', 5]);
    } finally {
      await app.close();
    }
  });
});

describe('ExecClientModule with tls', () => {
  const ca = makeCa();
  const cert = makeCert(ca, { cn: 'exec-stream', sans: ['IP:127.0.0.1'] });
  let tlsServer: TestServer;
  beforeAll(async () => (tlsServer = await startTestServer({ EXEC_TLS_CERT: cert.certPath, EXEC_TLS_KEY: cert.keyPath })));
  afterAll(() => tlsServer?.close());

  it('forRoot({ tls: { ca } }) talks to a TLS service (the CA as a file path)', async () => {
    const app = await Test.createTestingModule({
      imports: [ExecClientModule.forRoot({ address: tlsServer.address, tls: { ca: ca.certPath } })],
      providers: [Jobs],
    }).compile();
    await app.init();
    try {
      const { stdout, exitCode } = await app
        .get(Jobs)
        .exec.run(BASE_IMAGE, { command: ['sh', '-c', 'echo over-tls; exit 2'] })
        .collect();
      expect([stdout.toString(), exitCode]).toEqual(['over-tls\n', 2]);
    } finally {
      await app.close();
    }
  });
});

describe('ExecClientModule: token and shutdown', () => {
  it('a wrong token is UNAUTHENTICATED for runs and unary calls', async () => {
    const app = await Test.createTestingModule({
      imports: [ExecClientModule.forRoot({ address: server.address, token: 'wrong-token-0123456789abcdef' })],
      providers: [Jobs],
    }).compile();
    await app.init();
    try {
      const { exec, control } = app.get(Jobs);
      expect((await grpcError(control.status('anything'))).code).toBe(Code.UNAUTHENTICATED);
      expect((await grpcError(exec.run(BASE_IMAGE, { command: ['true'] }).ready)).code).toBe(Code.UNAUTHENTICATED);
    } finally {
      await app.close();
    }
  });

  it('app.close() shuts the channel down, and a later call fails at once instead of opening another', async () => {
    const app = await Test.createTestingModule({ imports: [ExecClientModule.forRoot({ address: server.address, token: TOKEN })], providers: [Jobs] }).compile();
    await app.init();
    const { exec, control } = app.get(Jobs);
    expect((await exec.run(BASE_IMAGE, { command: ['sh', '-c', 'echo ok'] }).collect()).exitCode).toBe(0);
    const channel = app.get(GRPCConnectionManager).getClient().getChannel();
    expect(channel.getConnectivityState(false)).toBe(connectivityState.READY);
    await app.close();
    expect(channel.getConnectivityState(false)).toBe(connectivityState.SHUTDOWN);
    await expect(control.status('anything')).rejects.toThrow(/application has shut down/);
    expect(() => exec.run(BASE_IMAGE, { command: ['true'] })).toThrow(/application has shut down/);
  });
});
