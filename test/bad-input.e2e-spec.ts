import { credentials, makeClientConstructor, Metadata, status, type Client, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { BASE_IMAGE, NOCMD_IMAGE, startTestServer, type TestServer } from './support/server';
import { docker, grpcError, managedLabels } from './support/helpers';
import { GO, GO_DONE } from './support/cues';
import { ControlClient, FileClient, type GRPCConnectionManager } from '@exec-stream/client';
import { buildService, childService, type ChildService } from './support/child-service';
import { HangingDocker } from './support/hanging-docker';

let server: TestServer;
beforeAll(async () => (server = await startTestServer()));
afterAll(() => server?.close());

/** A raw Session call: send exactly these messages, get the call's final status. */
function rawCall(
  server: { connection: GRPCConnectionManager },
  messages: object[],
  metadata = server.connection.getMetadata(),
): Promise<{ code: number; details: string; received: object[] }> {
  const client = server.connection.getClient();
  const call = (client.Session as (md: Metadata) => ClientDuplexStream<object, object>).call(client, metadata);
  const received: object[] = [];
  return new Promise((resolve) => {
    call.on('data', (m: object) => received.push(m));
    call.on('error', (err: { code: number; details: string }) => resolve({ code: err.code, details: err.details, received }));
    call.on('status', (s: { code: number; details: string }) => {
      if (s.code === (status.OK as number)) resolve({ code: s.code, details: s.details, received });
    });
    for (const m of messages) call.write(m);
  });
}

/** The limits as docs/PROTOCOL.md states them (written out, not imported: a change to the source must show here). */
const DOCUMENTED = {
  commandArgs: 1024,
  argBytes: 64 * 1024,
  commandBytes: 256 * 1024,
  envEntries: 1024,
  envKeyBytes: 256,
  envValueBytes: 64 * 1024,
  envBytes: 256 * 1024,
  workingDirBytes: 4096,
};
/** `n` env entries named K0, K1, … with `value`. */
const envOf = (n: number, value = 'v') => Object.fromEntries(Array.from({ length: n }, (_, i) => [`K${i}`, value]));

/** An image whose default command prints a marker (made by docker commit, removed in afterAll). */
const MARKER_IMAGE = `exec-stream/default-cmd-marker:${process.pid}`;
beforeAll(() => {
  const c = docker('create', '--network', 'none', BASE_IMAGE, 'true');
  try {
    docker('commit', '--change', 'CMD ["sh","-c","echo default-cmd-marker"]', c, MARKER_IMAGE);
  } finally {
    docker('rm', '-f', '-v', c);
  }
});
afterAll(() => docker('rmi', MARKER_IMAGE));

const start = (fields: object) => ({ start: fields });
const run = (fields: object) => start({ image: BASE_IMAGE, command: ['true'], ...fields });

describe('malformed calls', () => {
  it('first message not Start → INVALID_ARGUMENT', async () => {
    const r = await rawCall(server, [{ stdin: Buffer.from('x') }]);
    expect(r.code).toBe(status.INVALID_ARGUMENT);
    expect(r.details).toMatch(/first message must be start/);
  });

  it('second Start on a call → INVALID_ARGUMENT; the session goes on for others', async () => {
    // The session waits for /tmp/go, which the test creates (an exec into it) once the call was refused.
    const command = ['sh', '-c', `until ${GO_DONE}; do usleep 10000; done; echo done`];
    const r = await rawCall(server, [start({ image: BASE_IMAGE, command }), start({ session_id: 'x' })]);
    expect(r.code).toBe(status.INVALID_ARGUMENT);
    expect(r.details).toMatch(/one Start/);
    // The refused call had its Ready; the session it started is still running (an exec into its container
    // succeeds) and runs to its end for anyone attaching.
    const ready = r.received.find((m) => 'ready' in m) as { ready: { session_id: string; container_id: string } } | undefined;
    expect(ready?.ready.session_id).toBeTruthy();
    expect(await server.client.exec(ready!.ready.container_id, { command: GO }).wait()).toBe(0);
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
    const r = await server.client.run(MARKER_IMAGE, {}).collect();
    expect(r.stdout.toString()).toBe('default-cmd-marker\n');
    expect(r.exitCode).toBe(0);
  });

  it('requests exactly at the documented limits are accepted', async () => {
    const r = await server.client
      .run(BASE_IMAGE, {
        command: ['sh', '-c', 'echo $# ${#A} ${#1}', 'sh', 'x'.repeat(DOCUMENTED.argBytes), ...Array(DOCUMENTED.commandArgs - 5).fill('a')],
        env: { A: 'v'.repeat(DOCUMENTED.envValueBytes) },
      })
      .collect();
    expect(r.stdout.toString()).toBe(`${DOCUMENTED.commandArgs - 4} ${DOCUMENTED.envValueBytes} ${DOCUMENTED.argBytes}\n`);
    expect(r.exitCode).toBe(0);
  });

  it('env at its documented limits is accepted: 1024 entries, a 256-byte name, 256 KiB in all', async () => {
    const quarter = DOCUMENTED.envBytes / 4;
    // Four entries of `NAME=value\0` = 64 KiB each (as the kernel counts them) make 256 KiB in all; the first name is 256 bytes.
    const longName = 'N'.repeat(DOCUMENTED.envKeyBytes);
    const value = (name: string) => 'v'.repeat(quarter - name.length - 2);
    const env = { [longName]: value(longName), B1: value('B1'), B2: value('B2'), B3: value('B3') };
    // The two runs are independent: side by side.
    const [bytes, many] = await Promise.all([
      server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'env | grep -c ^B'], env }).collect(),
      server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'env | grep -c ^K'], env: envOf(DOCUMENTED.envEntries) }).collect(),
    ]);
    expect(bytes.stdout.toString()).toBe('3\n');
    expect(many.stdout.toString()).toBe(`${DOCUMENTED.envEntries}\n`);
  });

  it('image not present → NOT_FOUND naming the image', async () => {
    const r = await rawCall(server, [run({ image: 'exec-stream/no-such-image:v9' })]);
    expect(r.code).toBe(status.NOT_FOUND);
    expect(r.details).toContain('exec-stream/no-such-image:v9');
  });

  it.each([
    ['empty program name', { command: [''] }],
    ['oversized argument', { command: ['echo', 'x'.repeat(DOCUMENTED.argBytes + 1)] }],
    ['too many arguments', { command: Array(DOCUMENTED.commandArgs + 1).fill('a') }],
    ['empty env name', { env: { '': 'v' } }],
    ['env name with =', { env: { 'A=B': 'v' } }],
    ['oversized env value', { env: { A: 'v'.repeat(DOCUMENTED.envValueBytes + 1) } }],
    ['relative working_dir', { working_dir: 'tmp' }],
    ['oversized working_dir', { working_dir: '/' + 'd'.repeat(DOCUMENTED.workingDirBytes) }],
    ['image reference with spaces', { image: 'bad image' }],
    ['command over 256 KiB in all', { command: ['echo', ...Array(5).fill('c'.repeat(DOCUMENTED.commandBytes / 4 - 16))] }],
    ['NUL in a command argument', { command: ['echo', 'a\0b'] }],
    ['more than 1024 env entries', { env: envOf(DOCUMENTED.envEntries + 1) }],
    ['env name over 256 bytes', { env: { ['N'.repeat(DOCUMENTED.envKeyBytes + 1)]: 'v' } }],
    ['env over 256 KiB in all', { env: envOf(5, 'e'.repeat(DOCUMENTED.envBytes / 4 - 16)) }],
    ['NUL in an env value', { env: { A: 'a\0b' } }],
    ['NUL in working_dir', { working_dir: '/tmp/a\0b' }],
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
      docker('rm', '-f', '-v', id);
    }
  });

  it('exec into a managed container that is not running → FAILED_PRECONDITION', async () => {
    const id = docker('create', ...managedLabels(server.config.EXEC_REPLICA_ID), BASE_IMAGE, 'sleep', '60');
    try {
      const r = await rawCall(server, [start({ container_id: id, command: ['true'] })]);
      expect(r.code).toBe(status.FAILED_PRECONDITION);
      expect(r.details).toContain('created');
    } finally {
      docker('rm', '-f', '-v', id);
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

  // The first session runs until its starter writes a line: it is running for as long as the test needs.
  const UNTIL_TOLD = { command: ['sh', '-c', 'read x; exit 0'], openStdin: true };

  it('too many running sessions → RESOURCE_EXHAUSTED; a slot frees when one ends', async () => {
    const first = limited.client.run(BASE_IMAGE, UNTIL_TOLD);
    await first.ready;
    const err = await grpcError(limited.client.run(BASE_IMAGE, { command: ['true'] }).wait());
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toContain('EXEC_MAX_SESSIONS');
    await first.write(Buffer.from('go\n'));
    expect(await first.wait()).toBe(0);
    expect(await limited.client.run(BASE_IMAGE, { command: ['true'] }).wait()).toBe(0);
  });

  it('too many clients on one session → RESOURCE_EXHAUSTED', async () => {
    const first = limited.client.run(BASE_IMAGE, UNTIL_TOLD);
    const { sessionId } = await first.ready;
    const second = limited.client.attach({ sessionId });
    await second.ready;
    const err = await grpcError(limited.client.attach({ sessionId }).wait());
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    await first.write(Buffer.from('go\n'));
    expect(await first.wait()).toBe(0);
    expect(await second.wait()).toBe(0);
  });
});

describe('Docker unreachable', () => {
  let orphan: TestServer;
  beforeAll(async () => (orphan = await startTestServer({ DOCKER_HOST: 'unix:///tmp/exec-stream-no-docker.sock' })));
  afterAll(() => orphan?.close());

  it('health: NOT_SERVING from the first answer, for "" and dagger.exec.Exec (Docker was down at start-up)', async () => {
    const Health = makeClientConstructor(healthService, 'grpc.health.v1.Health');
    const health = new Health(orphan.address, credentials.createInsecure()) as unknown as Client & {
      check(req: { service: string }, cb: (err: Error | null, res?: { status: string }) => void): void;
    };
    try {
      const check = (service: string) => new Promise<string>((resolve, reject) => health.check({ service }, (e, r) => (e ? reject(e) : resolve(r!.status))));
      expect([await check(''), await check('dagger.exec.Exec')]).toEqual(['NOT_SERVING', 'NOT_SERVING']);
    } finally {
      health.close();
    }
  });

  it('run → UNAVAILABLE, not UNKNOWN and not an exit code', async () => {
    const err = await grpcError(orphan.client.run(BASE_IMAGE, { command: ['true'] }).wait());
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(err.details).toMatch(/Docker engine unreachable/);
  });

  it('exec → UNAVAILABLE', async () => {
    const err = await grpcError(orphan.client.exec('abc123', { command: ['true'] }).wait());
    expect(err.code).toBe(status.UNAVAILABLE);
  });

  it('ContainerStatus, Pause, Resume and Signal → UNAVAILABLE naming the unreachable engine', async () => {
    for (const [rpc, r] of await unaryCalls(new ControlClient(orphan.connection), 'abc123')) {
      expect({ rpc, ...r }).toMatchObject({ rpc, code: status.UNAVAILABLE, details: expect.stringMatching(/Docker engine unreachable/) });
    }
  });
});

/** The status code and message a call settles with (OK and '' when it succeeds). */
async function outcome(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
    return { code: status.OK, details: '' };
  } catch (err) {
    const e = err as { code?: number; details?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, details: e.details ?? '' };
  }
}

/** Every unary RPC that takes a container id, called with `id`, one after the other: each one's outcome. */
async function unaryCalls(control: ControlClient, id: string): Promise<Array<[string, { code: number; details: string }]>> {
  return [
    ['ContainerStatus', await outcome(control.status(id, true))],
    ['ContainerPause', await outcome(control.pause(id))],
    ['ContainerResume', await outcome(control.resume(id))],
    ['ContainerSignal', await outcome(control.signal(id, 'TERM'))],
  ];
}

describe('hostile ids and image references never reach Docker: the service process lives on', () => {
  let svc: ChildService;
  let control: ControlClient;
  let pid: number | undefined;
  // The service reaches Docker only through this endpoint, which passes every request on and logs it.
  let docker: HangingDocker;
  beforeAll(async () => {
    buildService();
    docker = new HangingDocker();
    svc = await childService({ DOCKER_HOST: await docker.listen() });
    await svc.start();
    pid = svc.proc?.pid;
    control = new ControlClient(svc.connection);
  });
  afterAll(async () => {
    await svc?.dispose();
    await docker?.close();
  });

  /** Requests about a container, exec or image made since `since` (the listing of managed containers aside). */
  const askedAbout = (since: number) =>
    docker.requests.slice(since).filter((r) => /^\/(containers|exec|images)\//.test(r.path) && r.path !== '/containers/json');

  const BAD_IDS = ['.', '..', '/', 'a/../b', '%2e%2e/x', '../x', 'a b', 'é'];

  it.each(BAD_IDS)('container_id %j → INVALID_ARGUMENT on every unary RPC, Docker never asked', async (id) => {
    const since = docker.requests.length;
    for (const [rpc, r] of await unaryCalls(control, id)) {
      expect({ rpc, ...r }).toMatchObject({ rpc, code: status.INVALID_ARGUMENT, details: expect.stringContaining('container_id') });
    }
    expect(askedAbout(since)).toEqual([]);
  });

  it.each(['../x', '..', '%2e%2e/x', 'a/b'])('ContainerSignal exec_id %j → INVALID_ARGUMENT, Docker never asked', async (execId) => {
    const since = docker.requests.length;
    const r = await outcome(control.signal('deadbeefdeadbeef', 'TERM', execId));
    expect(r).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('exec_id') });
    expect(askedAbout(since)).toEqual([]);
  });

  it.each(['a/../b', '..', '../b', 'a/./b', '%2e%2e/x', '/', 'a//b'])('Session Start image %j → INVALID_ARGUMENT, Docker never asked', async (image) => {
    const since = docker.requests.length;
    const r = await rawCall(svc, [start({ image, command: ['true'] })]);
    expect(r).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('image must be') });
    expect(askedAbout(since)).toEqual([]);
  });

  it.each(BAD_IDS)('Session Start container_id %j (exec and attach) → INVALID_ARGUMENT, Docker never asked', async (id) => {
    const since = docker.requests.length;
    expect((await rawCall(svc, [start({ container_id: id, command: ['true'] })])).code).toBe(status.INVALID_ARGUMENT);
    expect((await rawCall(svc, [start({ container_id: id })])).code).toBe(status.INVALID_ARGUMENT);
    expect((await rawCall(svc, [start({ container_id: 'deadbeefdeadbeef', exec_id: id })])).code).toBe(status.INVALID_ARGUMENT);
    expect(askedAbout(since)).toEqual([]);
  });

  it('the same process then still runs sessions and answers status (and its Docker requests are seen)', async () => {
    const since = docker.requests.length;
    const s = svc.client.run(BASE_IMAGE, { command: ['echo', 'alive'] });
    const { containerId } = await s.ready;
    expect((await s.collect()).stdout.toString()).toBe('alive\n');
    expect((await control.status(containerId)).containerId).toBe(containerId);
    expect(svc.proc?.pid).toBe(pid);
    expect(svc.proc?.exitCode).toBeNull();
    expect(svc.logs.filter((l) => /uncaught|unhandled/i.test(String(l.msg)))).toEqual([]);
    // The log above would show a hostile request: it does show these.
    expect(askedAbout(since)).toEqual(
      expect.arrayContaining([
        { method: 'POST', path: '/containers/create' },
        { method: 'GET', path: `/containers/${containerId}/json` },
      ]),
    );
  });
});

describe('oversized ids: INVALID_ARGUMENT with a short message, and the channel goes on', () => {
  const HUGE = 'a'.repeat(100_000);
  let control: ControlClient;
  beforeAll(() => (control = new ControlClient(server.connection)));

  it('every unary RPC, with a ~100 KB container_id', async () => {
    for (const [rpc, r] of await unaryCalls(control, HUGE)) {
      expect({ rpc, code: r.code }).toEqual({ rpc, code: status.INVALID_ARGUMENT });
      expect(r.details.length).toBeLessThan(300);
    }
  });

  it.each([
    ['signal', () => control.signal('deadbeefdeadbeef', HUGE)],
    ['exec_id', () => control.signal('deadbeefdeadbeef', 'TERM', HUGE)],
  ])('ContainerSignal with a ~100 KB %s', async (_n, call) => {
    const r = await outcome(call());
    expect(r.code).toBe(status.INVALID_ARGUMENT);
    expect(r.details.length).toBeLessThan(300);
  });

  it.each([
    ['container_id (exec)', { container_id: HUGE, command: ['true'] }],
    ['container_id (attach)', { container_id: HUGE }],
    ['session_id', { session_id: HUGE }],
    ['exec_id', { container_id: 'deadbeef', exec_id: HUGE }],
    ['client_id', { session_id: 'deadbeef', client_id: HUGE }],
    ['image', { image: HUGE, command: ['true'] }],
  ])('Session Start with a ~100 KB %s', async (_n, fields) => {
    const r = await rawCall(server, [start(fields)]);
    expect(r.code).toBe(status.INVALID_ARGUMENT);
    expect(r.details.length).toBeLessThan(1000);
  });

  it('ContainerLifecycle with a ~100 KB container_id', async () => {
    const sub = control.lifecycle({ containerId: HUGE });
    const r = await outcome(sub.next(30_000));
    sub.close();
    expect(r.code).toBe(status.INVALID_ARGUMENT);
    expect(r.details.length).toBeLessThan(300);
  });

  it('the same channel then still serves calls', async () => {
    expect((await outcome(control.status('deadbeefdeadbeef'))).code).toBe(status.NOT_FOUND);
    expect(await server.client.run(BASE_IMAGE, { command: ['true'] }).wait()).toBe(0);
  });
});

describe('client mistakes Docker or Node refuse are INVALID_ARGUMENT, not UNAVAILABLE', () => {
  let fresh: TestServer; // no sessions: an id prefix can only be resolved by Docker
  let control: ControlClient;
  beforeAll(async () => {
    fresh = await startTestServer();
    control = new ControlClient(fresh.connection);
  });
  afterAll(() => fresh?.close());

  it('characters a request path cannot carry (Node: "Request path contains unescaped characters")', async () => {
    for (const id of ['a b', 'a\tb', 'ä']) {
      for (const [rpc, r] of await unaryCalls(control, id)) expect({ rpc, code: r.code }).toEqual({ rpc, code: status.INVALID_ARGUMENT });
    }
  });

  it('a working_dir component over 255 bytes (run and exec)', async () => {
    const working_dir = `/tmp/${'d'.repeat(300)}`;
    const run = await rawCall(fresh, [start({ image: BASE_IMAGE, command: ['true'], working_dir })]);
    expect(run).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('255 bytes') });
    const target = fresh.client.run(BASE_IMAGE, { command: ['sleep', '30'] });
    const { containerId } = await target.ready;
    const exec = await rawCall(fresh, [start({ container_id: containerId, command: ['true'], working_dir })]);
    expect(exec).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('255 bytes') });
    await control.signal(containerId, 'KILL');
    expect(await target.wait()).toBe(137);
  });

  it("a uid or gid beyond Docker's range (-u 4294967295): refused before Docker, run and exec", async () => {
    const run = await rawCall(fresh, [start({ image: BASE_IMAGE, command: ['true'], user: '4294967295' })]);
    expect(run).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('a uid or gid is at most 2147483647') });
    const target = fresh.client.run(BASE_IMAGE, { command: ['sleep', '30'] });
    const { containerId } = await target.ready;
    const exec = await rawCall(fresh, [start({ container_id: containerId, command: ['true'], user: '0:4294967295' })]);
    expect(exec).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('a uid or gid is at most 2147483647') });
    await control.signal(containerId, 'KILL');
    expect(await target.wait()).toBe(137);
  });

  it('a copy path of 260 components, or one whose symbolic links loop (Docker: "too many links")', async () => {
    const target = fresh.client.run(BASE_IMAGE, { command: ['sh', '-c', 'ln -s /tmp/loop /tmp/loop; echo linked; sleep 30'] });
    const { containerId } = await target.ready;
    for await (const piece of target.output()) if (piece.data.toString().includes('linked')) break;
    const files = new FileClient(fresh.connection);
    const deep = '/' + Array(260).fill('a').join('/');
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => 'accepted',
        (e: ServiceError) => ({ code: e.code, details: e.details }),
      );
    const noEntries = async function* (): AsyncGenerator<Buffer> {};
    const copyFrom = (path: string) => files.copyFrom(containerId, path).then(({ tar }) => tar.resume());
    expect(await refusal(copyFrom(deep))).toEqual({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('at most 255 components') });
    expect(await refusal(files.copyTo(containerId, deep, noEntries()))).toMatchObject({ code: status.INVALID_ARGUMENT });
    // Within the count, but Docker follows the loop until it gives up: Docker's words, without the host's paths.
    const loop = await refusal(files.copyTo(containerId, '/tmp/loop/x', noEntries()));
    expect(loop).toEqual({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('too many components or symbolic links') });
    expect((loop as { details: string }).details).not.toMatch(/overlay|\/var\/lib\/docker/);
    // 255 components pass to Docker: this path does not exist.
    expect(await refusal(copyFrom('/' + Array(255).fill('a').join('/')))).toMatchObject({ code: status.NOT_FOUND });
    await control.signal(containerId, 'KILL');
    expect(await target.wait()).toBe(137);
  });

  it('Docker\'s "multiple IDs found" for a prefix of containers it has', async () => {
    const made: string[] = [];
    try {
      let prefix: string | undefined;
      for (let i = 0; i < 64 && !prefix; i++) {
        made.push(docker('create', '--network', 'none', BASE_IMAGE, 'true'));
        const firsts = made.map((id) => id[0]);
        prefix = firsts.find((c, j) => firsts.indexOf(c) !== j);
      }
      expect(prefix).toBeDefined();
      for (const [rpc, r] of await unaryCalls(control, prefix!)) {
        expect({ rpc, ...r }).toMatchObject({ rpc, code: status.INVALID_ARGUMENT, details: expect.stringContaining('ambiguous') });
      }
    } finally {
      docker('rm', '-f', '-v', ...made);
    }
  });
});

describe('status messages quote a value the client sent in part only (at most 32 characters), whoever wrote them', () => {
  /** The value as a message shows it: its first 32 characters, then its size. */
  const shown = (v: string) => `${JSON.stringify(v.slice(0, 32)).slice(0, -1)}…" (${Buffer.byteLength(v)} bytes)`;
  /** No 33 characters of `v` (as sent or JSON-escaped) anywhere in `details`. */
  const quotesInPart = (details: string, v: string) => {
    for (let at = 0; at + 33 <= v.length; at += 11) {
      const w = v.slice(at, at + 33);
      if (details.includes(w) || details.includes(JSON.stringify(w).slice(1, -1))) return false;
    }
    return true;
  };

  it("the service's own messages and Docker's words: ids, images, users, label keys and copy paths", async () => {
    const target = server.client.run(BASE_IMAGE, { command: ['sleep', '60'] });
    const { containerId } = await target.ready;
    const control = new ControlClient(server.connection);
    const files = new FileClient(server.connection);
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => ({ code: status.OK, details: '' }),
        (e: ServiceError) => ({ code: e.code, details: e.details }),
      );
    // The case: a 753-byte path that does not exist (its message was 1,646 characters, the path twice).
    const path = `/tmp/${'p'.repeat(248)}/${'q'.repeat(248)}/${'r'.repeat(248)}`;
    const id = 'f'.repeat(128);
    const image = `localhost:5000/${'i'.repeat(200)}:v1`;
    const user = 'u'.repeat(64);
    const label = `exec-stream.${'k'.repeat(100)}`;
    const cases: Array<[string, string, number, Promise<{ code: number; details: string }>]> = [
      ['CopyFrom path', path, status.NOT_FOUND, failure(files.copyFrom(containerId, path).then(({ tar }) => tar.resume()))],
      ['CopyTo path', path, status.NOT_FOUND, failure(files.copyTo(containerId, path, []))],
      ['CopyFrom container', id, status.NOT_FOUND, failure(files.copyFrom(id, '/tmp'))],
      ['ContainerPause', id, status.NOT_FOUND, failure(control.pause(id))],
      ['ContainerStatus', id, status.NOT_FOUND, failure(control.status(id))],
      ['attach', id, status.NOT_FOUND, rawCall(server, [start({ session_id: id })])],
      ['exec', id, status.NOT_FOUND, rawCall(server, [start({ container_id: id, command: ['true'] })])],
      ['image', image, status.NOT_FOUND, rawCall(server, [run({ image })])],
      ['user', user, status.INVALID_ARGUMENT, rawCall(server, [run({ user })])],
      ['label key', label, status.INVALID_ARGUMENT, rawCall(server, [run({ labels: { [label]: 'v' } })])],
    ];
    for (const [what, value, code, answer] of cases) {
      const { details, code: got } = await answer;
      expect({ what, code: got, inPart: quotesInPart(details, value), shown: details.includes(shown(value)) }).toEqual({
        what,
        code,
        inPart: true,
        shown: true,
      });
      expect(details.length).toBeLessThan(400);
    }
    await control.signal(containerId, 'KILL');
    await target.wait().catch(() => undefined);
  });
});

describe('an ambiguous prefix of retained sessions is INVALID_ARGUMENT everywhere', () => {
  let fresh: TestServer;
  let control: ControlClient;
  beforeAll(async () => {
    fresh = await startTestServer();
    control = new ControlClient(fresh.connection);
  });
  afterAll(() => fresh?.close());

  it('ContainerStatus, Pause, Resume, Signal and Session attach', async () => {
    const ids: string[] = [];
    let prefix: string | undefined;
    for (let i = 0; i < 64 && !prefix; i++) {
      const s = fresh.client.run(BASE_IMAGE, { command: ['true'] });
      ids.push((await s.ready).containerId);
      expect(await s.wait()).toBe(0);
      const firsts = ids.map((id) => id[0]);
      prefix = firsts.find((c, j) => firsts.indexOf(c) !== j);
    }
    expect(prefix).toBeDefined();
    for (const [rpc, r] of await unaryCalls(control, prefix!)) {
      expect({ rpc, ...r }).toMatchObject({ rpc, code: status.INVALID_ARGUMENT, details: expect.stringContaining('ambiguous') });
    }
    const attach = await rawCall(fresh, [start({ container_id: prefix })]);
    expect(attach).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('ambiguous') });
    // A prefix that names one of them is answered.
    const one = ids.find((id) => id[0] === prefix)!;
    expect((await control.status(one.slice(0, 12))).containerId).toBe(one);
  });
});
