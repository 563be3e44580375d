// The containers a run creates, as README.md and docs/PROTOCOL.md describe them: labels, network
// `none`, the log driver setting, and EXEC_REMOVE_CONTAINERS, checked on the real engine.
import { BASE_IMAGE, startTestServer, type TestServer } from '../support/server';
import { sha256 } from '../support/helpers';
import { inspectContainer, waitUntil } from '../support/conditions';
import { ControlClient } from '@exec-stream/client';

/** Waits for one stdin line, then writes 64 KiB of random bytes to stdout and their sha256 to stderr. */
const WAIT_THEN_WRITE = ['sh', '-c', 'echo ready; read go; head -c 65536 /dev/urandom > /tmp/b; cat /tmp/b; sha256sum /tmp/b | cut -d" " -f1 >&2'];

/** Runs WAIT_THEN_WRITE; `inspect` sees the container while it waits; resolves with what the session gave. */
async function runAndInspect(server: TestServer) {
  const s = server.client.run(BASE_IMAGE, { command: WAIT_THEN_WRITE, openStdin: true });
  const ready = await s.ready;
  const parts: Record<'stdout' | 'stderr', Buffer[]> = { stdout: [], stderr: [] };
  const it = s.output();
  let head = '';
  while (!head.includes('ready\n')) {
    const { value, done } = await it.next();
    if (done) throw new Error('ended before ready');
    head += value.data.toString();
  }
  const container = inspectContainer(ready.containerId);
  await s.write(Buffer.from('go\n'));
  s.closeStdin();
  for await (const p of { [Symbol.asyncIterator]: () => it }) parts[p.stream].push(p.data);
  return { ready, container, stdout: Buffer.concat(parts.stdout), stderr: Buffer.concat(parts.stderr).toString().trim(), exitCode: await s.exit };
}

describe('default settings', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer()));
  afterAll(() => server?.close());

  it('a run container is labelled exec-stream.managed=true and exec-stream.session=<session id>, with network none and log driver local, rotated logs not compressed', async () => {
    const r = await runAndInspect(server);
    expect(r.container.Config.Labels).toMatchObject({ 'exec-stream.managed': 'true', 'exec-stream.session': r.ready.sessionId });
    expect(r.container.HostConfig.NetworkMode).toBe('none');
    expect(r.container.HostConfig.LogConfig).toEqual({ Type: 'local', Config: { compress: 'false' } });
    expect(sha256(r.stdout)).toBe(r.stderr);
    expect(r.exitCode).toBe(0);
  });

  it('network none: the process sees no interface but lo', async () => {
    const r = await server.client.run(BASE_IMAGE, { command: ['ls', '/sys/class/net'] }).collect();
    expect(r).toMatchObject({ exitCode: 0 });
    expect(r.stdout.toString()).toBe('lo\n');
  });

  it('EXEC_REMOVE_CONTAINERS=true (default): the container is removed once the exit and output are recorded', async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo bye; exit 4'] });
    const { containerId } = await s.ready;
    expect((await s.collect()).exitCode).toBe(4);
    await waitUntil(`container ${containerId} removed`, () => inspectContainer(containerId) === undefined);
    // The session outlives its container: attach still gives the output and the exit code.
    const again = await server.client.attach({ containerId }).collect();
    expect(again).toMatchObject({ exitCode: 4 });
    expect(again.stdout.toString()).toBe('bye\n');
  });
});

describe('EXEC_CONTAINER_LOG_DRIVER=json-file, EXEC_CONTAINER_LOG_OPTS=max-size=1m,max-file=2, EXEC_REMOVE_CONTAINERS=false', () => {
  let server: TestServer;
  const made: string[] = [];
  beforeAll(
    async () =>
      (server = await startTestServer({
        EXEC_CONTAINER_LOG_DRIVER: 'json-file',
        EXEC_CONTAINER_LOG_OPTS: 'max-size=1m,max-file=2',
        EXEC_REMOVE_CONTAINERS: 'false',
      })),
  );
  afterAll(() => server?.close());

  it('the container logs with json-file, output is byte-exact, and the finished container is kept', async () => {
    const r = await runAndInspect(server);
    made.push(r.ready.containerId);
    expect(r.container.HostConfig.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } });
    expect(sha256(r.stdout)).toBe(r.stderr);
    expect(r.exitCode).toBe(0);
    // A removal would have been asked for as soon as the session finished; a whole second session
    // (create, start, wait, record) runs after that moment before the check.
    expect(await server.client.run(BASE_IMAGE, { command: ['true'] }).wait()).toBe(0);
    const kept = inspectContainer(r.ready.containerId);
    expect(kept?.State).toMatchObject({ Status: 'exited', ExitCode: 0 });
    expect(await new ControlClient(server.connection).status(r.ready.containerId)).toMatchObject({ status: 'exited', exitCode: 0 });
  });
});

describe('EXEC_CONTAINER_LOG_DRIVER=none', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer({ EXEC_CONTAINER_LOG_DRIVER: 'none' })));
  afterAll(() => server?.close());

  it('the container logs with driver none, and the session still gets every byte', async () => {
    const r = await runAndInspect(server);
    expect(r.container.HostConfig.LogConfig).toEqual({ Type: 'none', Config: {} });
    expect(sha256(r.stdout)).toBe(r.stderr);
    expect(r.stdout.length).toBe(65536);
    expect(r.exitCode).toBe(0);
  });
});
