import { status as Code } from '@grpc/grpc-js';
import { ControlClient, type ExecSession } from '@exec-stream/client';
import { backgroundReader, inspectContainer, removeContainers, waitUntil } from './support/conditions';
import { HangingDocker } from './support/hanging-docker';
import { grpcError } from './support/helpers';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';

// The engine is made to hang by a real HTTP server on a unix socket in front of the real Docker socket
// (test/support/hanging-docker.ts): not a mock of Docker, every answer the service gets is Docker's own;
// it only holds, unanswered, the requests a test names.
const START = /^\/containers\/[0-9a-f]+\/start$/;

describe('Docker requests have a deadline (EXEC_DOCKER_TIMEOUT_MS=1500)', () => {
  let docker: HangingDocker;
  let server: TestServer;
  let control: ControlClient;
  beforeAll(async () => {
    docker = new HangingDocker();
    server = await startTestServer({ DOCKER_HOST: await docker.listen(), EXEC_DOCKER_TIMEOUT_MS: '1500', EXEC_MAX_SESSIONS: '1' });
    control = new ControlClient(server.connection);
  });
  afterEach(() => docker.answerAll());
  afterAll(async () => {
    await server?.close();
    await docker?.close();
    removeContainers(docker?.created ?? []);
  });

  it('a container start Docker never answers: Start fails UNAVAILABLE naming it, the container is removed, the slot is free', async () => {
    docker.hang('POST', START);
    const err = await grpcError(server.client.run(BASE_IMAGE, { command: ['true'] }).ready);
    expect(err.code).toBe(Code.UNAVAILABLE);
    expect(err.details).toMatch(/Docker did not answer start of container [0-9a-f]{12} within 1\.5 s/);
    expect(docker.held).toEqual([expect.objectContaining({ method: 'POST', path: expect.stringMatching(START) })]);
    const [created] = docker.created;
    await waitUntil('the container of the failed start removed', () => !inspectContainer(created));
    await waitUntil('the held start abandoned by the service', () => docker.held[0].closed);

    docker.answerAll();
    const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'exit 4'] }); // EXEC_MAX_SESSIONS=1
    expect(await s.wait()).toBe(4);
  });

  it('ContainerStatus, Pause and Signal on a container whose requests Docker never answers fail UNAVAILABLE naming them', async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'read x; exit 2'], openStdin: true });
    const { containerId } = await s.ready;
    docker.hang('GET', /^\/containers\/[0-9a-f]+\/json$/);
    docker.hang('POST', /^\/containers\/[0-9a-f]+\/(pause|kill)$/);
    for (const [call, op] of [
      [() => control.status(containerId, true), 'inspect of container'],
      [() => control.pause(containerId), 'inspect of container'],
      [() => control.signal(containerId, 'TERM'), 'inspect of container'],
    ] as const) {
      const err = await grpcError(call());
      expect(err.code).toBe(Code.UNAVAILABLE);
      expect(err.details).toContain(`Docker did not answer ${op} ${containerId}`);
    }
    docker.answerAll();
    docker.hang('POST', /^\/containers\/[0-9a-f]+\/(pause|kill)$/);
    const pause = await grpcError(control.pause(containerId));
    expect(pause.code).toBe(Code.UNAVAILABLE);
    expect(pause.details).toMatch(/Docker did not answer pause of container/);
    docker.answerAll();
    await s.write(Buffer.from('go\n'));
    expect(await s.wait()).toBe(2);
  });
});

describe('a client that cancels while its run is being set up', () => {
  let docker: HangingDocker;
  let server: TestServer;
  beforeAll(async () => {
    docker = new HangingDocker();
    // A long deadline: only the cancel can free the slot within this test.
    server = await startTestServer({ DOCKER_HOST: await docker.listen(), EXEC_DOCKER_TIMEOUT_MS: '120000', EXEC_MAX_SESSIONS: '1' });
  });
  afterAll(async () => {
    await server?.close();
    await docker?.close();
    removeContainers(docker?.created ?? []);
  });

  it('frees its session slot at once, and the container created for it is removed', async () => {
    docker.hang('POST', START);
    const first = server.client.run(BASE_IMAGE, { command: ['sleep', '60'] });
    await waitUntil('the start held', () => docker.held.length === 1);
    first.cancel();
    await grpcError(first.ready);

    docker.answerAll();
    const second = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'exit 6'] }); // EXEC_MAX_SESSIONS=1
    expect(await second.wait()).toBe(6);
    const [created] = docker.created;
    await waitUntil('the cancelled session’s container removed', () => !inspectContainer(created));
    expect(docker.held[0].closed).toBe(true);
  });
});

describe('the deadlines of an exec, a resize, exec signalling and stats (EXEC_DOCKER_TIMEOUT_MS=3000)', () => {
  let docker: HangingDocker;
  let tight: TestServer;
  let owner: TestServer;
  let control: ControlClient;
  let containerId: string;
  let main: ExecSession;
  beforeAll(async () => {
    docker = new HangingDocker();
    // The container comes from a server of the same replica id on the plain socket, whose deadline a slow
    // container start on a busy machine cannot reach; the server under test only execs, signals and asks.
    const replica = `deadlines-${process.pid}`;
    owner = await startTestServer({ EXEC_REPLICA_ID: replica });
    tight = await startTestServer({ DOCKER_HOST: await docker.listen(), EXEC_DOCKER_TIMEOUT_MS: '3000', EXEC_REPLICA_ID: replica });
    control = new ControlClient(tight.connection);
    main = owner.client.run(BASE_IMAGE, { command: ['sleep', '600'] });
    containerId = (await main.ready).containerId;
  });
  afterEach(() => docker.answerAll());
  afterAll(async () => {
    if (containerId) await new ControlClient(owner.connection).signal(containerId, 'KILL');
    await main?.wait().catch(() => undefined);
    await tight?.close();
    await owner?.close();
    await docker?.close();
  });
  /** Every request held since `from` (docker.held's length before) was given up by the service (its deadline passed). */
  const abandoned = (from: number) =>
    waitUntil('the held requests abandoned by the service', () => docker.held.length > from && docker.held.slice(from).every((h) => h.closed));
  const EXEC_CREATE = /^\/containers\/[0-9a-f]+\/exec$/;

  it('exec create, and the opening of exec start: the exec fails UNAVAILABLE naming the request', async () => {
    const from = docker.held.length;
    docker.hang('POST', EXEC_CREATE);
    let err = await grpcError(tight.client.exec(containerId, { command: ['true'] }).ready);
    expect({ code: err.code, details: err.details }).toEqual({
      code: Code.UNAVAILABLE,
      details: expect.stringMatching(/Docker did not answer exec create in container/),
    });
    docker.answerAll();
    docker.hang('POST', /^\/exec\/[0-9a-f]+\/start$/);
    err = await grpcError(tight.client.exec(containerId, { command: ['true'] }).ready);
    expect({ code: err.code, details: err.details }).toEqual({ code: Code.UNAVAILABLE, details: expect.stringMatching(/Docker did not answer exec start/) });
    // (A held exec start is an upgraded connection; only the exec create's abandonment is observable here.)
    expect(docker.held[from]).toMatchObject({ method: 'POST', closed: true });
  });

  it("exec inspect (the exec's exit code): the exec's session ends UNAVAILABLE naming it", async () => {
    const from = docker.held.length;
    docker.hang('GET', /^\/exec\/[0-9a-f]+\/json$/);
    const err = await grpcError(tight.client.exec(containerId, { command: ['sh', '-c', 'exit 3'] }).wait());
    expect({ code: err.code, details: err.details }).toEqual({
      code: Code.UNAVAILABLE,
      details: expect.stringMatching(/Docker did not answer inspect of exec/),
    });
    await abandoned(from);
  });

  it('a resize Docker never answers is given up after the deadline; the process goes on and a later resize applies', async () => {
    const s = tight.client.exec(containerId, {
      command: ['sh', '-c', 'echo up; until [ "$(stty size)" = "50 150" ]; do usleep 10000; done; echo sized'],
      tty: true,
      openStdin: true,
    });
    await s.ready;
    const out = backgroundReader(s.output());
    await out.until('up');
    const from = docker.held.length;
    docker.hang('POST', /^\/exec\/[0-9a-f]+\/resize$/);
    s.resize(120, 40);
    await abandoned(from);
    docker.answerAll();
    s.resize(150, 50);
    await out.until('sized');
    expect(await s.exit).toBe(0);
  });

  it("exec signalling: the kill helper's exec create is given up after the deadline, and the service signals the process itself", async () => {
    const e = tight.client.exec(containerId, { command: ['sleep', '60'] });
    const { execId } = await e.ready;
    const from = docker.held.length;
    docker.hang('POST', EXEC_CREATE);
    await control.signal(containerId, 'TERM', execId);
    expect(docker.held.slice(from)).toEqual([expect.objectContaining({ method: 'POST', path: expect.stringMatching(EXEC_CREATE), closed: true })]);
    expect(await e.wait()).toBe(143);
  });

  it('the opening of the stats stream is given up after the deadline: ContainerStatus with usage → UNAVAILABLE (no readings), without usage it answers', async () => {
    const from = docker.held.length;
    docker.hang('GET', /^\/containers\/[0-9a-f]+\/stats$/);
    // A container started now: the service opens its stats stream when it sees it start (held from the first).
    const other = owner.client.run(BASE_IMAGE, { command: ['sleep', '600'] });
    const { containerId: id } = await other.ready;
    try {
      const err = await grpcError(control.status(id, true));
      expect({ code: err.code, details: err.details }).toEqual({ code: Code.UNAVAILABLE, details: expect.stringMatching(/no resource readings/) });
      await abandoned(from);
      expect(await control.status(id, false)).toMatchObject({ status: 'running' });
    } finally {
      await new ControlClient(owner.connection).signal(id, 'KILL');
      await other.wait().catch(() => undefined);
    }
  });
});

describe('a client that cancels while its exec is being set up', () => {
  let docker: HangingDocker;
  let server: TestServer;
  beforeAll(async () => {
    docker = new HangingDocker();
    // A long deadline: only the cancel can free the slot within this test. Two slots: the run and one exec.
    server = await startTestServer({ DOCKER_HOST: await docker.listen(), EXEC_DOCKER_TIMEOUT_MS: '120000', EXEC_MAX_SESSIONS: '2' });
  });
  afterAll(async () => {
    await server?.close();
    await docker?.close();
    removeContainers(docker?.created ?? []);
  });

  it('frees its session slot at once; the pending Docker request is abandoned and no process of it runs', async () => {
    const main = server.client.run(BASE_IMAGE, { command: ['sleep', '60'] });
    const { containerId } = await main.ready;
    docker.hang('POST', /^\/containers\/[0-9a-f]+\/exec$/);
    const cancelled = server.client.exec(containerId, { command: ['sleep', '77'] });
    await waitUntil('the exec create held', () => docker.held.length === 1);
    cancelled.cancel();
    await grpcError(cancelled.ready);
    await waitUntil('the held exec create abandoned', () => docker.held[0].closed);
    docker.answerAll();
    // EXEC_MAX_SESSIONS=2: the run and this exec; the cancelled one holds no slot.
    const ps = await server.client.exec(containerId, { command: ['ps', '-o', 'args'] }).collect();
    expect(ps.exitCode).toBe(0);
    expect(ps.stdout.toString()).not.toContain('sleep 77');
    await new ControlClient(server.connection).signal(containerId, 'KILL');
    expect(await main.wait()).toBe(137);
  });
});
