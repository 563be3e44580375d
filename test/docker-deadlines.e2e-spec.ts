import { status as Code } from '@grpc/grpc-js';
import { ControlClient } from '@exec-stream/client';
import { inspectContainer, removeContainers, waitUntil } from './support/conditions';
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
