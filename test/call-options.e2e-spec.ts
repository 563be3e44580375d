/**
 * docs/CLIENTS.md, "Per-call options and hooks": CallOptions (metadata, deadline | timeoutMs, signal)
 * on ExecClient / ControlClient calls, and a connection's defaultMetadata and onCall hook, through
 * ExecClientModule too, against the real service. Docker sits behind a byte-for-byte proxy that can
 * hold a request back, so a call can be made to wait on Docker for as long as a test needs.
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Metadata } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { Code, ControlClient, ExecClient, GRPCConnectionManager, type CallInfo, type ExecError } from '@exec-stream/client';
import { ExecClientModule } from '@exec-stream/client/nest';
import { SessionManager } from '../src/exec/session';
import { waitUntil } from './support/conditions';
import { DockerSocketProxy } from './support/docker-socket-proxy';
import { BASE_IMAGE, NOCMD_IMAGE, startTestServer, type TestServer } from './support/server';

jest.setTimeout(60_000);

const TOKEN = randomBytes(16).toString('hex');
const BEARER = `Bearer ${TOKEN}`;

let proxy: DockerSocketProxy;
let server: TestServer;
/** A connection without a token: each test says how its calls carry one. */
let bare: GRPCConnectionManager;
let authed: GRPCConnectionManager;

beforeAll(async () => {
  proxy = new DockerSocketProxy();
  server = await startTestServer({ DOCKER_HOST: await proxy.listen(), EXEC_AUTH_TOKEN: TOKEN });
  bare = new GRPCConnectionManager({ address: server.address });
  authed = new GRPCConnectionManager({ address: server.address, token: TOKEN });
});
afterAll(async () => {
  bare?.close();
  authed?.close();
  await server?.close();
  await proxy?.close();
});

/** The rejection of `p` (which must reject) as an ExecError. */
async function failure(p: Promise<unknown>): Promise<ExecError> {
  return p.then(
    (v) => {
      throw new Error(`expected a failure, got ${JSON.stringify(v)}`);
    },
    (err: ExecError) => err,
  );
}

/** clients_attached of a session, as the service counts them (ListSessions by session id). */
async function clientsOf(sessionId: string): Promise<number> {
  const page = await new ControlClient(authed).listSessions({ session_id: sessionId });
  expect(page.sessions).toHaveLength(1);
  return page.sessions![0].clients_attached ?? 0;
}

describe('metadata', () => {
  it("a call's metadata reaches the service, over the connection's defaults", async () => {
    const control = new ControlClient(bare);
    expect((await failure(control.listSessions({}))).code).toBe(Code.UNAUTHENTICATED);
    await expect(control.listSessions({}, { metadata: { authorization: BEARER } })).resolves.toHaveProperty('next_page_token');
    const withWrongDefault = new GRPCConnectionManager({ address: server.address, defaultMetadata: { authorization: 'Bearer wrong-token-0123456789' } });
    try {
      const c = new ControlClient(withWrongDefault);
      expect((await failure(c.listSessions({}))).code).toBe(Code.UNAUTHENTICATED);
      const md = new Metadata();
      md.set('authorization', BEARER);
      await expect(c.listSessions({}, { metadata: md })).resolves.toHaveProperty('next_page_token');
    } finally {
      withWrongDefault.close();
    }
    // The service reads x-request-id: one it refuses proves it arrived (and names the field).
    const bad = await failure(new ControlClient(authed).listSessions({}, { metadata: { 'x-request-id': 'x'.repeat(200) } }));
    expect({ code: bad.code, reason: bad.reason, fields: bad.fieldViolations.map((v) => v.field) }).toEqual({
      code: Code.INVALID_ARGUMENT,
      reason: 'FIELD_INVALID',
      fields: ['x-request-id'],
    });
    // Session calls take it too.
    const run = new ExecClient(bare).run(
      BASE_IMAGE,
      { command: ['echo', 'hi'] },
      { metadata: { authorization: BEARER, traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` } },
    );
    expect(await run.collect()).toMatchObject({ stdout: Buffer.from('hi\n'), exitCode: 0 });
  });
});

describe('deadline', () => {
  it("bounds a run's set-up, not its output", async () => {
    const started = Date.now();
    const s = new ExecClient(authed).run(BASE_IMAGE, { command: ['sh', '-c', 'sleep 4; echo done'] }, { timeoutMs: 3000 });
    expect(await s.collect()).toMatchObject({ stdout: Buffer.from('done\n'), exitCode: 0 });
    expect(Date.now() - started).toBeGreaterThan(3000);
  });

  it('a set-up past its deadline is DEADLINE_EXCEEDED and cancelled on the wire: the service drops the session', async () => {
    proxy.delay(/^GET \S*\/images\/exec-stream\/busybox-nocmd:latest\/json /, 3000);
    const started = Date.now();
    const s = new ExecClient(authed).run(NOCMD_IMAGE, { command: ['true'] }, { timeoutMs: 1000 });
    const ofImage = () =>
      server.app
        .get(SessionManager)
        .all()
        .some((x) => x.info.image === NOCMD_IMAGE);
    await waitUntil('the session being set up (its image inspect held back)', () => ofImage() || undefined);
    const err = await failure(s.ready);
    expect(err.code).toBe(Code.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(3000);
    await expect(s.exit).rejects.toBe(err);
    // The service saw the cancel: no session of that image is left, even though Docker has not answered yet.
    await waitUntil(
      'the cancelled set-up dropped',
      () =>
        !server.app
          .get(SessionManager)
          .all()
          .some((x) => x.info.image === NOCMD_IMAGE) || undefined,
      2000,
    );
  });

  it('bounds a unary call as a whole (grpc-js deadline)', async () => {
    const s = new ExecClient(authed).run(BASE_IMAGE, { command: ['sleep', '30'] });
    const { containerId } = await s.ready;
    proxy.delay(new RegExp(`^GET \\S*/containers/${containerId}/json `), 3000);
    const err = await failure(new ControlClient(authed).status(containerId, false, { deadline: new Date(Date.now() + 300) }));
    expect(err.code).toBe(Code.DEADLINE_EXCEEDED);
    s.cancel();
  });
});

describe('signal', () => {
  it('aborting an attach cancels it on the wire: the service counts one client fewer; the call rejects CANCELLED', async () => {
    const exec = new ExecClient(authed);
    const starter = exec.run(BASE_IMAGE, { command: ['sh', '-c', 'while :; do echo tick; sleep 0.2; done'] });
    const { sessionId } = await starter.ready;
    const abort = new AbortController();
    const watcher = exec.attach({ sessionId }, { signal: abort.signal });
    await watcher.ready;
    await waitUntil('two clients', async () => (await clientsOf(sessionId)) === 2 || undefined);
    const pieces = watcher.output();
    await pieces.next();
    abort.abort(new Error('the user left'));
    const err = await failure(
      (async () => {
        for await (const _ of pieces);
      })(),
    );
    expect({ code: err.code, cause: (err.cause as Error).message }).toEqual({ code: Code.CANCELLED, cause: 'the user left' });
    await waitUntil('one client again', async () => (await clientsOf(sessionId)) === 1 || undefined);
    starter.cancel();
  });

  it('an aborted signal fails the call at once; a lifecycle stream ends without an error', async () => {
    const aborted = AbortSignal.abort();
    expect((await failure(new ExecClient(authed).run(BASE_IMAGE, { command: ['true'] }, { signal: aborted }).ready)).code).toBe(Code.CANCELLED);
    expect((await failure(new ControlClient(authed).listSessions({}, { signal: aborted }))).code).toBe(Code.CANCELLED);
    const abort = new AbortController();
    const events = new ControlClient(authed).lifecycle({}, { signal: abort.signal });
    abort.abort();
    await waitUntil('the stream ended', () => events.ended || undefined);
    expect(events.error).toBeUndefined();
  });
});

describe('onCall hook and default metadata, through ExecClientModule', () => {
  it("sees every call's method and end, may add metadata, and the module passes both on", async () => {
    const seen: Array<{ method: string; error?: string }> = [];
    const hook = (call: CallInfo) => {
      call.metadata.set('authorization', BEARER); // an interceptor-like hook adding what every call needs
      return (end: { error?: ExecError }) => seen.push({ method: call.method, error: end.error?.reason });
    };
    @Injectable()
    class Probe {
      constructor(
        readonly exec: ExecClient,
        readonly control: ControlClient,
      ) {}
    }
    @Module({
      imports: [ExecClientModule.forRoot({ address: server.address, defaultMetadata: { 'x-request-id': 'from-the-module' }, onCall: hook })],
      providers: [Probe],
    })
    class AppModule {}
    const app = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await app.init();
    try {
      const probe = app.get(Probe);
      const s = probe.exec.run(BASE_IMAGE, { command: ['echo', 'via-nest'] });
      expect((await s.collect()).stdout.toString()).toBe('via-nest\n');
      await probe.control.status('0123456789ab').catch(() => undefined);
      expect(seen).toEqual([
        { method: '/dagger.exec.Exec/Session', error: undefined },
        { method: '/dagger.exec.Exec/ContainerStatus', error: 'CONTAINER_NOT_FOUND' },
      ]);
      // The default x-request-id went too: one the service refuses says so.
      const strict = await Test.createTestingModule({
        imports: [ExecClientModule.forRoot({ address: server.address, token: TOKEN, defaultMetadata: { 'x-request-id': 'x'.repeat(200) } })],
      }).compile();
      const err = await failure(strict.get(ControlClient).listSessions({}));
      expect(err.fieldViolations.map((v) => v.field)).toEqual(['x-request-id']);
      await strict.close();
    } finally {
      await app.close();
    }
  });
});
