// The containers a run creates, as README.md and docs/PROTOCOL.md describe them: labels, network
// `none`, the log driver setting, and EXEC_REMOVE_CONTAINERS, checked on the real engine.
import { BASE_IMAGE, startTestServer, type TestServer } from '../support/server';
import { grpcError, sha256 } from '../support/helpers';
import { status } from '@grpc/grpc-js';
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

/** Capability names as Docker stores them, without the CAP_ prefix it may add, sorted. */
const capNames = (caps: string[]) => caps.map((c) => c.replace(/^CAP_/, '')).sort();

describe('default settings', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer()));
  afterAll(() => server?.close());

  it('a run container is labelled exec-stream.managed=true, exec-stream.session=<session id> and exec-stream.recorder, with network none and no Docker log (its output record serves recovery)', async () => {
    const r = await runAndInspect(server);
    expect(r.container.Config.Labels).toMatchObject({ 'exec-stream.managed': 'true', 'exec-stream.session': r.ready.sessionId });
    expect(r.container.HostConfig.NetworkMode).toBe('none');
    expect(r.container.Config.Labels).toMatchObject({ 'exec-stream.recorder': 'shim-1' });
    expect(r.container.HostConfig.LogConfig).toEqual({ Type: 'none', Config: {} });
    expect(sha256(r.stdout)).toBe(r.stderr);
    expect(r.exitCode).toBe(0);
  });

  it("EXEC_CONTAINER_INIT=true (default): Docker's init is pid 1, so SIGTERM ends a plain process (143), and 127 / 126 come from it", async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['sleep', '60'] });
    const { containerId } = await s.ready;
    expect(inspectContainer(containerId).HostConfig.Init).toBe(true);
    await new ControlClient(server.connection).signal(containerId, 'TERM');
    expect(await s.wait()).toBe(143);
    expect((await server.client.run(BASE_IMAGE, { command: ['no-such-command'] }).collect()).exitCode).toBe(127);
    expect((await server.client.run(BASE_IMAGE, { command: ['/etc/passwd'] }).collect()).exitCode).toBe(126);
  });

  it("the default capabilities: Docker's default set less NET_RAW, MKNOD, AUDIT_WRITE and SETFCAP; no-new-privileges; a writable root", async () => {
    const r = await runAndInspect(server);
    expect(r.container.HostConfig.CapDrop).toEqual(['ALL']);
    expect(capNames(r.container.HostConfig.CapAdd)).toEqual([
      'CHOWN',
      'DAC_OVERRIDE',
      'FOWNER',
      'FSETID',
      'KILL',
      'NET_BIND_SERVICE',
      'SETGID',
      'SETPCAP',
      'SETUID',
      'SYS_CHROOT',
    ]);
    expect(r.container.HostConfig.SecurityOpt).toContain('no-new-privileges');
    expect(r.container.HostConfig.ReadonlyRootfs).toBe(false);
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

describe('EXEC_CONTAINER_INIT=false, EXEC_CONTAINER_NETWORK=host, EXEC_CAPABILITIES=CHOWN,KILL, EXEC_READ_ONLY_ROOTFS=true, EXEC_MAX_TIMEOUT_MS=60000', () => {
  let server: TestServer;
  beforeAll(
    async () =>
      (server = await startTestServer({
        EXEC_CONTAINER_INIT: 'false',
        EXEC_CONTAINER_NETWORK: 'host',
        EXEC_CAPABILITIES: 'CHOWN,KILL',
        EXEC_READ_ONLY_ROOTFS: 'true',
        EXEC_MAX_TIMEOUT_MS: '60000',
      })),
  );
  afterAll(() => server?.close());

  it('every run gets the settings: no init, the host network, only the capabilities given (in its bounding set too), a read-only root', async () => {
    const r = await runAndInspect(server);
    expect(r.container.HostConfig).toMatchObject({ NetworkMode: 'host', CapDrop: ['ALL'], ReadonlyRootfs: true });
    expect(r.container.HostConfig.Init).not.toBe(true);
    expect(capNames(r.container.HostConfig.CapAdd)).toEqual(['CHOWN', 'KILL']);
    // CHOWN is bit 0, KILL bit 5: 0x21 is all the process may ever have.
    const caps = await server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'grep CapBnd /proc/self/status'] }).collect();
    expect(caps.stdout.toString()).toMatch(/^CapBnd:\s+0000000000000021$/m);
    expect(
      (await server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'ls /sys/class/net | grep -vx lo | wc -l'] }).collect()).stdout.toString().trim(),
    ).not.toBe('0');
  });

  it('a read-only root with a writable /tmp unless Start.read_only_rootfs says otherwise', async () => {
    const write = (readOnlyRootfs?: boolean) =>
      server.client
        .run(BASE_IMAGE, { command: ['sh', '-c', 'touch /tmp/t && echo tmp-ok; touch /root-file 2>/dev/null && echo root-ok; true'], readOnlyRootfs })
        .collect();
    expect((await write()).stdout.toString()).toBe('tmp-ok\n');
    expect((await write(false)).stdout.toString()).toBe('tmp-ok\nroot-ok\n');
  });

  it('without init the output recorder (exec-stream-shim) is pid 1 and forwards signals: SIGTERM ends a plain process (143); a missing command is 127', async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['sleep', '60'] });
    const { containerId } = await s.ready;
    expect(inspectContainer(containerId)?.HostConfig.Init).toBeFalsy();
    await new ControlClient(server.connection).signal(containerId, 'TERM');
    expect(await s.wait()).toBe(143);
    expect(await server.client.run(BASE_IMAGE, { command: ['no-such-command'] }).wait()).toBe(127);
  });

  it('EXEC_MAX_TIMEOUT_MS: timeout_ms and idle_timeout_ms above it are INVALID_ARGUMENT naming it; at it, accepted', async () => {
    for (const field of ['timeoutMs', 'idleTimeoutMs'] as const) {
      const err = await grpcError(server.client.run(BASE_IMAGE, { command: ['true'], [field]: 60_001 }).wait());
      expect({ field, code: err.code, details: err.details }).toEqual({
        field,
        code: status.INVALID_ARGUMENT,
        details: expect.stringContaining('EXEC_MAX_TIMEOUT_MS'),
      });
    }
    expect(await server.client.run(BASE_IMAGE, { command: ['true'], timeoutMs: 60_000, idleTimeoutMs: 60_000 }).wait()).toBe(0);
  });
});
