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

describe('Docker requests have a deadline (EXEC_DOCKER_TIMEOUT_MS=5000)', () => {
  // The deadline applies to every Docker request of this server, held or not: the requests this test
  // does not hold (a run's image inspect, create, upload and attach) must be answered within it even on
  // a busy engine, and the held one costs it once. 5 s is far above what the unheld ones take.
  let docker: HangingDocker;
  let server: TestServer;
  beforeAll(async () => {
    docker = new HangingDocker();
    server = await startTestServer({ DOCKER_HOST: await docker.listen(), EXEC_DOCKER_TIMEOUT_MS: '5000', EXEC_MAX_SESSIONS: '1' });
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
    expect(err.details).toMatch(/Docker did not answer start of container [0-9a-f]{12} within 5 s/);
    expect(docker.held).toEqual([expect.objectContaining({ method: 'POST', path: expect.stringMatching(START) })]);
    const [created] = docker.created;
    await waitUntil('the container of the failed start removed', () => !inspectContainer(created));
    await waitUntil('the held start abandoned by the service', () => docker.held[0].closed);

    // The slot is free (EXEC_MAX_SESSIONS=1): a new run is not refused but goes to Docker, whose first
    // request (the image's inspect) this endpoint now holds; the run is then cancelled.
    docker.answerAll();
    docker.hang('GET', /^\/images\/.+\/json$/);
    const next = server.client.run(BASE_IMAGE, { command: ['true'] });
    let refused: unknown;
    next.ready.catch((e: unknown) => (refused ??= e));
    await waitUntil('the next run asking Docker for its image', () => docker.held.length === 2 || refused);
    expect(refused).toBeUndefined();
    expect(docker.held[1]).toMatchObject({ method: 'GET', path: expect.stringMatching(/^\/images\//) });
    next.cancel();
    expect((await grpcError(next.ready)).code).toBe(Code.CANCELLED);
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

describe('the deadlines of container requests, an exec, a resize, exec signalling and stats (EXEC_DOCKER_TIMEOUT_MS=3000)', () => {
  let docker: HangingDocker;
  let tight: TestServer;
  let owner: TestServer;
  let control: ControlClient;
  let containerId: string;
  let main: ExecSession;
  beforeAll(async () => {
    docker = new HangingDocker();
    // Containers come from a server of the same replica id on the plain socket, whose deadline a slow
    // container start on a busy machine cannot reach; the server under test only execs, signals and asks.
    // The held calls of a test run side by side: each test waits for the deadline once.
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

  it('ContainerStatus, Pause and Signal on a container whose requests Docker never answers fail UNAVAILABLE naming them', async () => {
    // Two running containers of this replica id: every request about x is held; y's inspect is answered, its pause held.
    const started = [0, 1].map(() => owner.client.run(BASE_IMAGE, { command: ['sh', '-c', 'read x; exit 2'], openStdin: true }));
    const [x, y] = await Promise.all(started.map(async (s) => (await s.ready).containerId));
    docker.hang('GET', new RegExp(`^/containers/${x}/json$`));
    docker.hang('POST', new RegExp(`^/containers/${y}/pause$`));
    const outcomes = await Promise.all([
      grpcError(control.status(x, true)),
      grpcError(control.pause(x)),
      grpcError(control.signal(x, 'TERM')),
      grpcError(control.pause(y)),
    ]);
    expect(outcomes.map((e) => [e.code, e.details])).toEqual([
      // The id as sent is quoted, cut short after 32 characters (a caller's value is never echoed in full).
      [Code.UNAVAILABLE, expect.stringContaining(`Docker did not answer inspect of container "${x.slice(0, 32)}…" (64 bytes)`)],
      [Code.UNAVAILABLE, expect.stringContaining(`Docker did not answer inspect of container "${x.slice(0, 32)}…" (64 bytes)`)],
      [Code.UNAVAILABLE, expect.stringContaining(`Docker did not answer inspect of container "${x.slice(0, 32)}…" (64 bytes)`)],
      [Code.UNAVAILABLE, expect.stringMatching(/Docker did not answer pause of container/)],
    ]);
    docker.answerAll();
    for (const s of started) {
      await s.write(Buffer.from('go\n'));
      expect(await s.wait()).toBe(2);
    }
  });

  it('exec create, and the opening of exec start: the exec fails UNAVAILABLE naming the request', async () => {
    const from = docker.held.length;
    // One exec's create is held; then, new requests answered again (a held one stays held), another's start.
    docker.hang('POST', EXEC_CREATE);
    const createHeld = grpcError(tight.client.exec(containerId, { command: ['true'] }).ready);
    await waitUntil('the exec create held', () => docker.held.length > from);
    docker.answerAll();
    docker.hang('POST', /^\/exec\/[0-9a-f]+\/start$/);
    const startHeld = grpcError(tight.client.exec(containerId, { command: ['true'] }).ready);
    let err = await createHeld;
    expect({ code: err.code, details: err.details }).toEqual({
      code: Code.UNAVAILABLE,
      details: expect.stringMatching(/Docker did not answer exec create in container/),
    });
    err = await startHeld;
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

  it('the opening of the stats stream is given up after the deadline: ContainerStatus with usage answers with no reading (readings 0, never a made-up figure), without usage it answers', async () => {
    const from = docker.held.length;
    docker.hang('GET', /^\/containers\/[0-9a-f]+\/stats$/);
    // A container started now: the service opens its stats stream when it sees it start (held from the first).
    const other = owner.client.run(BASE_IMAGE, { command: ['sleep', '600'] });
    const { containerId: id } = await other.ready;
    try {
      const withUsage = await control.status(id, true);
      expect({ status: withUsage.status, usage: withUsage.resourceUsage }).toMatchObject({
        status: 'running',
        usage: { readings: 0, cpuPercent: 0, memoryBytes: 0 },
      });
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
