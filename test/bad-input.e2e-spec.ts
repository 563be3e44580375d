import { Metadata, status, type ClientDuplexStream } from '@grpc/grpc-js';
import { BASE_IMAGE, NOCMD_IMAGE, startTestServer, type TestServer } from './support/server';
import { docker, grpcError } from './support/helpers';
import { LIMITS } from '../src/exec/limits';

let server: TestServer;
beforeAll(async () => (server = await startTestServer()));
afterAll(() => server?.close());

/** A raw Session call: send exactly these messages, get the call's final status. */
function rawCall(server: TestServer, messages: object[], metadata = server.connection.getMetadata()): Promise<{ code: number; details: string; received: object[] }> {
  const client = server.connection.getClient();
  const call = (client.Session as (md: Metadata) => ClientDuplexStream<object, object>).call(client, metadata);
  const received: object[] = [];
  return new Promise((resolve) => {
    call.on('data', (m: object) => received.push(m));
    call.on('error', (err: { code: number; details: string }) => resolve({ code: err.code, details: err.details, received }));
    call.on('status', (s: { code: number; details: string }) => {
      if (s.code === status.OK) resolve({ code: s.code, details: s.details, received });
    });
    for (const m of messages) call.write(m);
  });
}

const start = (fields: object) => ({ start: fields });
const run = (fields: object) => start({ image: BASE_IMAGE, command: ['true'], ...fields });

describe('malformed calls', () => {
  it('first message not Start → INVALID_ARGUMENT', async () => {
    const r = await rawCall(server, [{ stdin: Buffer.from('x') }]);
    expect(r.code).toBe(status.INVALID_ARGUMENT);
    expect(r.details).toMatch(/first message must be start/);
  });

  it('second Start on a call → INVALID_ARGUMENT; the session goes on for others', async () => {
    const r = await rawCall(server, [start({ image: BASE_IMAGE, command: ['sh', '-c', 'sleep 1; echo done'] }), start({ session_id: 'x' })]);
    expect(r.code).toBe(status.INVALID_ARGUMENT);
    expect(r.details).toMatch(/one Start/);
    // The refused call had its Ready; the session it started runs to its end for anyone attaching.
    const ready = r.received.find((m) => 'ready' in m) as { ready: { session_id: string } } | undefined;
    expect(ready?.ready.session_id).toBeTruthy();
    expect(await server.client.attach({ sessionId: ready!.ready.session_id }).collect()).toEqual({
      stdout: Buffer.from('done\n'),
      stderr: Buffer.alloc(0),
      exitCode: 0,
    });
  });

  it('Start with nothing to do → INVALID_ARGUMENT', async () => {
    const r = await rawCall(server, [start({})]);
    expect(r.code).toBe(status.INVALID_ARGUMENT);
  });

  it('image without command, and the image has none → INVALID_ARGUMENT', async () => {
    const r = await rawCall(server, [start({ image: NOCMD_IMAGE })]);
    expect(r.code).toBe(status.INVALID_ARGUMENT);
    expect(r.details).toContain('no default command');
  });

  it("image without command uses the image's default command", async () => {
    const r = await server.client.run(BASE_IMAGE, {}).collect(); // CMD /bin/sh with no stdin: exits 0
    expect(r.exitCode).toBe(0);
  });

  it('image not present → NOT_FOUND naming the image', async () => {
    const r = await rawCall(server, [run({ image: 'exec-stream/no-such-image:v9' })]);
    expect(r.code).toBe(status.NOT_FOUND);
    expect(r.details).toContain('exec-stream/no-such-image:v9');
  });

  it.each([
    ['empty program name', { command: [''] }],
    ['oversized argument', { command: ['echo', 'x'.repeat(LIMITS.argBytes + 1)] }],
    ['too many arguments', { command: Array(LIMITS.commandArgs + 1).fill('a') }],
    ['empty env name', { env: { '': 'v' } }],
    ['env name with =', { env: { 'A=B': 'v' } }],
    ['oversized env value', { env: { A: 'v'.repeat(LIMITS.envValueBytes + 1) } }],
    ['relative working_dir', { working_dir: 'tmp' }],
    ['oversized working_dir', { working_dir: '/' + 'd'.repeat(LIMITS.workingDirBytes) }],
    ['image reference with spaces', { image: 'bad image' }],
  ])('%s → INVALID_ARGUMENT', async (_name, fields) => {
    const r = await rawCall(server, [run(fields)]);
    expect(r.code).toBe(status.INVALID_ARGUMENT);
    expect(r.details).toMatch(/invalid Start|must/);
  });
});

describe('what does not exist or is not ours', () => {
  it('unknown session_id → NOT_FOUND', async () => {
    const r = await rawCall(server, [start({ session_id: '00000000-0000-0000-0000-000000000000' })]);
    expect(r.code).toBe(status.NOT_FOUND);
  });

  it('unknown container_id (attach) → NOT_FOUND', async () => {
    const r = await rawCall(server, [start({ container_id: 'deadbeefdeadbeef' })]);
    expect(r.code).toBe(status.NOT_FOUND);
  });

  it('unknown container_id (exec) → NOT_FOUND', async () => {
    const r = await rawCall(server, [start({ container_id: 'deadbeefdeadbeef', command: ['true'] })]);
    expect(r.code).toBe(status.NOT_FOUND);
    expect(r.details).toContain('deadbeefdeadbeef');
  });

  it('exec into a container this service did not create → PERMISSION_DENIED', async () => {
    const id = docker('run', '-d', '--network', 'none', BASE_IMAGE, 'sleep', '60');
    try {
      const r = await rawCall(server, [start({ container_id: id, command: ['true'] })]);
      expect(r.code).toBe(status.PERMISSION_DENIED);
    } finally {
      docker('rm', '-f', id);
    }
  });

  it('exec into a managed container that is not running → FAILED_PRECONDITION', async () => {
    const id = docker('create', '--network', 'none', '--label', 'exec-stream.managed=true', BASE_IMAGE, 'sleep', '60');
    try {
      const r = await rawCall(server, [start({ container_id: id, command: ['true'] })]);
      expect(r.code).toBe(status.FAILED_PRECONDITION);
      expect(r.details).toContain('created');
    } finally {
      docker('rm', '-f', id);
    }
  });

  it('attach with a session_id and a container_id that do not match → INVALID_ARGUMENT', async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['echo', 'x'] });
    const { sessionId } = await s.ready;
    await s.wait();
    const r = await rawCall(server, [start({ session_id: sessionId, container_id: 'abcdef123456' })]);
    expect(r.code).toBe(status.INVALID_ARGUMENT);
  });
});

describe('limits', () => {
  let limited: TestServer;
  beforeAll(async () => (limited = await startTestServer({ EXEC_MAX_SESSIONS: '1', EXEC_MAX_CLIENTS_PER_SESSION: '2' })));
  afterAll(() => limited?.close());

  it('too many running sessions → RESOURCE_EXHAUSTED; a slot frees when one ends', async () => {
    const first = limited.client.run(BASE_IMAGE, { command: ['sleep', '2'] });
    await first.ready;
    const err = await grpcError(limited.client.run(BASE_IMAGE, { command: ['true'] }).wait());
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toContain('EXEC_MAX_SESSIONS');
    expect(await first.wait()).toBe(0);
    expect(await limited.client.run(BASE_IMAGE, { command: ['true'] }).wait()).toBe(0);
  });

  it('too many clients on one session → RESOURCE_EXHAUSTED', async () => {
    const first = limited.client.run(BASE_IMAGE, { command: ['sleep', '2'] });
    const { sessionId } = await first.ready;
    const second = limited.client.attach({ sessionId });
    await second.ready;
    const err = await grpcError(limited.client.attach({ sessionId }).wait());
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(await first.wait()).toBe(0);
    expect(await second.wait()).toBe(0);
  });
});

describe('Docker unreachable', () => {
  let orphan: TestServer;
  beforeAll(async () => (orphan = await startTestServer({ DOCKER_HOST: 'unix:///tmp/exec-stream-no-docker.sock' })));
  afterAll(() => orphan?.close());

  it('run → UNAVAILABLE, not UNKNOWN and not an exit code', async () => {
    const err = await grpcError(orphan.client.run(BASE_IMAGE, { command: ['true'] }).wait());
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(err.details).toMatch(/Docker engine unreachable/);
  });

  it('exec → UNAVAILABLE', async () => {
    const err = await grpcError(orphan.client.exec('abc123', { command: ['true'] }).wait());
    expect(err.code).toBe(status.UNAVAILABLE);
  });
});
