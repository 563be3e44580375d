/**
 * Nest's own gRPC client (ClientsModule.register, Transport.GRPC, ClientGrpc.getService) against the
 * real service: the Session bidi call through Observables, ContainerStatus, ContainerLifecycle, and
 * each pitfall of docs/CLIENTS.md with its fix: (a) an undefined Metadata argument, (b) the token on
 * every call, (c) 64-bit fields as Long, (d) a cold Session Observable, (e) no flow control.
 */
import 'reflect-metadata';
import { Metadata, status as Code } from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import { ClientsModule, Transport, type ClientGrpc } from '@nestjs/microservices';
import { Test, type TestingModule } from '@nestjs/testing';
import { concatMap, filter, firstValueFrom, lastValueFrom, of, shareReplay, Subject, takeWhile, tap, toArray, type Observable } from 'rxjs';
import type { SessionRequest, SessionResponse__Output } from '@exec-stream/client/wire';
import { execGrpcClientOptions, execGrpcService, execProtoPath, PROTO_LOADER_OPTIONS, type ExecGrpcService } from '@exec-stream/client/nest';
import { SessionManager } from '../src/exec/session';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';
import { sha256 } from './support/helpers';
import { waitUntil } from './support/conditions';

const TOKEN = 'nest-clients-token-0123456789abcdef';
let server: TestServer;
let app: TestingModule;

/** How a Nest consumer holds the service: ClientGrpc injected by name, getService in onModuleInit. */
@Injectable()
class ExecGateway {
  /** Registered with execGrpcClientOptions: token by interceptor, the package's loader options. */
  readonly exec: ExecGrpcService;
  /** Registered as a Nest user would by hand: package, protoPath and loader only (no token, no wrapper). */
  readonly plain: ExecGrpcService;
  /** As `plain` but without `loader`: proto-loader's defaults. */
  readonly defaults: ExecGrpcService;
  constructor(@Inject('EXEC') exec: ClientGrpc, @Inject('EXEC_PLAIN') plain: ClientGrpc, @Inject('EXEC_DEFAULTS') defaults: ClientGrpc) {
    this.exec = execGrpcService(exec);
    this.plain = plain.getService<ExecGrpcService>('Exec');
    this.defaults = defaults.getService<ExecGrpcService>('Exec');
  }
}

let gw: ExecGateway;
const auth = () => {
  const m = new Metadata();
  m.set('authorization', `Bearer ${TOKEN}`);
  return m;
};

beforeAll(async () => {
  server = await startTestServer({ EXEC_AUTH_TOKEN: TOKEN });
  app = await Test.createTestingModule({
    imports: [
      ClientsModule.register([
        { name: 'EXEC', transport: Transport.GRPC, options: execGrpcClientOptions({ address: server.address, token: TOKEN }) },
        {
          name: 'EXEC_PLAIN',
          transport: Transport.GRPC,
          options: { url: server.address, package: 'dagger.exec', protoPath: execProtoPath(), loader: { ...PROTO_LOADER_OPTIONS } },
        },
        { name: 'EXEC_DEFAULTS', transport: Transport.GRPC, options: { url: server.address, package: 'dagger.exec', protoPath: execProtoPath() } },
      ]),
    ],
    providers: [ExecGateway],
  }).compile();
  await app.init();
  gw = app.get(ExecGateway);
});
afterAll(async () => {
  await app?.close();
  await server?.close();
});

const start = (command: string, extra: Record<string, unknown> = {}): Observable<SessionRequest> =>
  of({ start: { image: BASE_IMAGE, command: ['sh', '-c', command], ...extra } });

/** A Session's messages folded: the ready message, stdout and stderr bytes, the exit code. */
function fold(messages: SessionResponse__Output[]) {
  const pick = (k: 'stdout' | 'stderr') => Buffer.concat(messages.filter((m) => m.msg === k).map((m) => m[k]!));
  return {
    ready: messages.find((m) => m.msg === 'ready')?.ready,
    stdout: pick('stdout'),
    stderr: pick('stderr'),
    exit: messages.find((m) => m.msg === 'exit')?.exit,
  };
}

describe('Session, ContainerStatus and ContainerLifecycle through Observables', () => {
  it('Session: ready first, stdout and stderr byte-exact (bytes as Buffers, oneof named in `msg`), then the exit code', async () => {
    const messages = await lastValueFrom(
      gw.exec.session(start('head -c 1000000 /dev/urandom > /tmp/r; cat /tmp/r; sha256sum /tmp/r >&2; exit 7')).pipe(toArray()),
    );
    expect(messages[0].msg).toBe('ready');
    expect(messages[messages.length - 1]).toMatchObject({ msg: 'exit', exit: 7 });
    const { ready, stdout, stderr } = fold(messages);
    expect(ready?.session_id).toMatch(/\S/);
    expect(Buffer.isBuffer(stdout)).toBe(true);
    expect(stdout.length).toBe(1_000_000);
    expect(stderr.toString().split(' ')[0]).toBe(sha256(stdout));
  });

  it('ContainerStatus and ContainerLifecycle of a running container, int64 as decimal strings; a signal ends it', async () => {
    const stdin = new Subject<SessionRequest>();
    const session$ = gw.exec.session(stdin).pipe(shareReplay());
    const all = lastValueFrom(session$.pipe(toArray()));
    stdin.next({ start: { image: BASE_IMAGE, command: ['sh', '-c', 'echo up; sleep 60'] } });
    const ready = (await firstValueFrom(session$.pipe(filter((m) => m.msg === 'ready')))).ready!;
    await firstValueFrom(session$.pipe(filter((m) => m.msg === 'stdout')));
    const st = await lastValueFrom(gw.exec.containerStatus({ container_id: ready.container_id }));
    expect(st).toMatchObject({ container_id: ready.container_id, status: 'running' });
    expect(st.started_at).toMatch(/^[1-9]\d{18}$/); // Unix ns as a string (PROTO_LOADER_OPTIONS.longs = String)
    // resume_after_id 0: the held events of this container first (no race with the subscription), then live ones.
    const events = lastValueFrom(
      gw.exec.containerLifecycle({ container_id: ready.container_id, resume_after_id: '0' }).pipe(
        takeWhile((e) => e.event_type !== 'exited', true),
        toArray(),
      ),
    );
    expect(await lastValueFrom(gw.exec.containerSignal({ container_id: ready.container_id, signal: 'SIGKILL', exec_id: '' }))).toMatchObject({ success: true });
    stdin.complete();
    const got = await events;
    expect(got.map((e) => e.event_type)).toEqual(expect.arrayContaining(['started', 'killed', 'exited']));
    expect(got.every((e) => typeof e.id === 'string' && /^\d+$/.test(e.id) && typeof e.timestamp === 'string')).toBe(true);
    expect(fold(await all).exit).toBe(137);
  });
});

describe('the pitfalls of docs/CLIENTS.md', () => {
  const code = (p: Observable<unknown>) =>
    lastValueFrom(p).then(
      () => 'OK',
      (e: { code?: number; message?: string }) => (typeof e.code === 'number' ? Code[e.code] : String(e.message)),
    );

  it('(a) an undefined Metadata argument throws inside Nest + grpc-js; execGrpcService drops it', async () => {
    // Nest's ClientGrpcProxy spreads every argument into grpc-js: the undefined lands where grpc-js reads call options.
    expect(await code(gw.plain.containerStatus({ container_id: 'nope' }, undefined))).toMatch(/reading 'interceptors'/);
    expect(await code(gw.plain.containerStatus({ container_id: 'nope' }))).toBe('UNAUTHENTICATED'); // omitted: it reaches the server
    expect(await code(gw.exec.containerStatus({ container_id: 'nope' }, undefined))).toBe('NOT_FOUND');
  });

  it('(b) the token: per call as Metadata, or on every call by execAuthInterceptor (a call that brings its own keeps it)', async () => {
    expect(await code(gw.plain.containerStatus({ container_id: 'nope' }, auth()))).toBe('NOT_FOUND');
    expect(await code(gw.exec.containerStatus({ container_id: 'nope' }))).toBe('NOT_FOUND');
    const wrong = new Metadata();
    wrong.set('authorization', 'Bearer not-the-token-0123456789');
    expect(await code(gw.exec.containerStatus({ container_id: 'nope' }, wrong))).toBe('UNAUTHENTICATED');
  });

  it('(c) without the package loader options 64-bit fields arrive as Long objects and fields camelCased; with them, decimal strings', async () => {
    const session$ = gw.exec.session(start('echo up; sleep 60')).pipe(shareReplay());
    const all = lastValueFrom(session$.pipe(toArray()));
    const { container_id } = (await firstValueFrom(session$.pipe(filter((m) => m.msg === 'ready')))).ready!;
    const withDefaults = (await lastValueFrom(gw.defaults.containerStatus({ containerId: container_id } as never, auth()))) as any;
    expect(withDefaults.started_at).toBeUndefined();
    expect(withDefaults.startedAt).toEqual(expect.objectContaining({ low: expect.any(Number), high: expect.any(Number) }));
    const withOptions = await lastValueFrom(gw.plain.containerStatus({ container_id }, auth()));
    expect(withOptions.started_at).toBe(String(BigInt(withDefaults.startedAt.high >>> 0) * 2n ** 32n + BigInt(withDefaults.startedAt.low >>> 0)));
    await lastValueFrom(gw.exec.containerSignal({ container_id, signal: 'SIGKILL', exec_id: '' }));
    expect(fold(await all).exit).toBe(137);
  });

  it('(d) a Session Observable is cold: two subscribers start two processes; shareReplay() makes it one', async () => {
    const sessions = server.app.get(SessionManager);
    let before = sessions.all().length;
    const cold$ = gw.exec.session(start('echo once'));
    const [a, b] = await Promise.all([lastValueFrom(cold$.pipe(toArray())), lastValueFrom(cold$.pipe(toArray()))]);
    expect(fold(a).ready!.session_id).not.toBe(fold(b).ready!.session_id);
    expect(sessions.all().length - before).toBe(2);

    before = sessions.all().length;
    const shared$ = gw.exec.session(start('echo once')).pipe(shareReplay());
    const [c, d] = await Promise.all([lastValueFrom(shared$.pipe(toArray())), lastValueFrom(shared$.pipe(toArray()))]);
    expect(fold(c).ready!.session_id).toBe(fold(d).ready!.session_id);
    expect([fold(c).stdout.toString(), fold(d).stdout.toString(), fold(d).exit]).toEqual(['once\n', 'once\n', 0]);
    expect(sessions.all().length - before).toBe(1);
  });

  it('(e) no flow control: the whole output arrives while the subscriber still holds its first message', async () => {
    // 16 MiB: more than flow control would let through to a consumer that holds its first message (the
    // channel's HTTP/2 window, about 1 MiB in flight at the server, loopback socket buffers: under 10 MiB).
    const TOTAL = 16 * 1024 * 1024;
    let received = 0;
    let processed = 0;
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const done = lastValueFrom(
      gw.exec.session(start(`head -c ${TOTAL} /dev/zero`)).pipe(
        tap((m) => (received += m.stdout?.length ?? 0)),
        concatMap(async (m) => {
          processed++;
          await gate; // a consumer that cannot keep up: Nest buffers everything behind it
          return m;
        }),
        toArray(),
      ),
    );
    await waitUntil(`all ${TOTAL} bytes buffered (so far ${received})`, () => received === TOTAL, 60_000);
    expect(processed).toBe(1);
    open();
    expect(fold(await done)).toMatchObject({ exit: 0 });
  });
});
