// docs/LIFECYCLE.md, "How an exec is signalled": step 2a (the pid inside the container from the
// host's /proc NSpid), the direct fallback when the image has no usable `kill`, and step 2b (a helper
// exec lists the exec roots) when the service cannot see the host's /proc (own pid namespace).
import { status } from '@grpc/grpc-js';
import { ControlClient, type ExecClient, type ExecSession } from '@exec-stream/client';
import { BASE_IMAGE, startTestServer, type TestServer } from '../support/server';
import { grpcError } from '../support/helpers';
import { backgroundReader, removeContainers, waitUntil } from '../support/conditions';
import { buildService } from '../support/child-service';
import { serviceInOwnPidNamespace } from '../support/pid-ns-service';

jest.setTimeout(60_000);

/** A running container of the service's, to exec into. */
async function target(client: ExecClient) {
  const run = client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo up; exec sleep 300'] });
  const { containerId } = await run.ready;
  const out = backgroundReader(run.output());
  await out.until('up\n');
  return { run, containerId, out };
}

/** An exec that prints its own pid (as the container sees it) and then becomes `sleep`. */
async function pidPrintingExec(client: ExecClient, containerId: string, seconds: number) {
  const s = client.exec(containerId, { command: ['sh', '-c', `echo $$; exec sleep ${seconds}`] });
  const { execId } = await s.ready;
  const out = backgroundReader(s.output());
  await out.until('\n');
  return { s, execId, pid: Number(out.text().trim()), out };
}

describe('the service sees the host /proc (step 2a)', () => {
  let server: TestServer;
  let control: ControlClient;
  const containers: string[] = [];
  beforeAll(async () => {
    server = await startTestServer();
    control = new ControlClient(server.connection);
  });
  afterAll(async () => {
    removeContainers(containers);
    await server?.close();
  });

  it('finds the pid the process has inside the container, signals it, and the exec ends 143', async () => {
    const t = await target(server.client);
    containers.push(t.containerId);
    const e = await pidPrintingExec(server.client, t.containerId, 301);
    expect(e.pid).toBeGreaterThan(1);
    const r = await control.signal(t.containerId, 'TERM', e.execId);
    expect(r.message).toContain(`(pid ${e.pid} in container`);
    expect(await e.s.exit).toBe(143);
  });

  it('an image without a usable `kill`: the service signals the host pid itself', async () => {
    const t = await target(server.client);
    containers.push(t.containerId);
    expect(await server.client.exec(t.containerId, { command: ['rm', '/bin/kill'] }).wait()).toBe(0);
    expect(
      await server.client
        .exec(t.containerId, { command: ['kill', '-0', '1'] })
        .wait()
        .catch((err) => err.code),
    ).not.toBe(0); // premise: no kill
    const e = await pidPrintingExec(server.client, t.containerId, 302);
    const r = await control.signal(t.containerId, 'TERM', e.execId);
    expect(r.message).toContain(`(pid ${e.pid} in container`);
    expect(await e.s.exit).toBe(143);
  });
});

describe('the service in its own pid namespace (step 2b)', () => {
  let svc: Awaited<ReturnType<typeof serviceInOwnPidNamespace>>;
  let control: ControlClient;
  const containers: string[] = [];
  beforeAll(async () => {
    buildService();
    svc = await serviceInOwnPidNamespace();
    control = new ControlClient(svc.connection);
  });
  afterAll(async () => {
    removeContainers(containers);
    await svc?.dispose();
  });

  it('finds the exec by its command line among the exec roots and signals it: 143, the main process untouched', async () => {
    const t = await target(svc.client);
    containers.push(t.containerId);
    const s: ExecSession = svc.client.exec(t.containerId, { command: ['sleep', '303'] });
    const { execId } = await s.ready;
    const out = backgroundReader(s.output());
    // The exec's process exists once Docker reports it running (its Pid is set).
    await waitUntil(
      'the exec running',
      async () =>
        await control.signal(t.containerId, 'TERM', execId).then(
          (r) => r,
          () => undefined,
        ),
    );
    expect(await s.exit).toBe(143);
    await out.done;
    expect((await control.status(t.containerId)).status).toBe('running');
  });

  it('two execs with the same command line → FAILED_PRECONDITION instead of a guess', async () => {
    const t = await target(svc.client);
    containers.push(t.containerId);
    const a = svc.client.exec(t.containerId, { command: ['sleep', '304'] });
    const b = svc.client.exec(t.containerId, { command: ['sleep', '304'] });
    const { execId } = await a.ready;
    await b.ready;
    const err = await grpcError(control.signal(t.containerId, 'TERM', execId));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toContain('cannot tell which process');
    a.cancel();
    b.cancel();
  });
});
