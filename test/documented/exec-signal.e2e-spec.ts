// docs/LIFECYCLE.md, "How an exec is signalled": step 2a (the pid inside the container from the
// host's /proc NSpid), the direct fallback when the image has no usable `kill`, and step 2b (a helper
// exec lists the exec roots) when the service cannot see the host's /proc (own pid namespace).
import { status } from '@grpc/grpc-js';
import { ControlClient, type ExecClient, type ExecSession } from '@exec-stream/client';
import { BASE_IMAGE, startTestServer, type TestServer } from '../support/server';
import { grpcError } from '../support/helpers';
import { backgroundReader, removeContainers, waitUntil } from '../support/conditions';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { buildService } from '../support/child-service';
import { serviceInOwnPidNamespace } from '../support/pid-ns-service';

jest.setTimeout(60_000);

/** The docker CLI, without blocking the event loop of the in-process service. */
const dockerAsync = async (...args: string[]) => (await promisify(execFile)('docker', args, { encoding: 'utf8' })).stdout.trim();

/** GET of Docker's API on its default socket (the CLI has no command for an exec's state). */
function dockerApi(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: '/var/run/docker.sock', path }, (res) => {
      let body = '';
      res.on('data', (b) => (body += b));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${path}: ${res.statusCode} ${body}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A running container of the service's, to exec into. */
async function target(client: ExecClient) {
  const run = client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo up; exec sleep 300'] });
  const { containerId } = await run.ready;
  const out = backgroundReader(run.output());
  await out.until('up\n');
  return { run, containerId, out };
}

/**
 * An exec that prints the pid of its root (as the container sees it: the exec-stream-shim that runs it
 * and records its output, which passes signals on) and then becomes `sleep`.
 */
async function pidPrintingExec(client: ExecClient, containerId: string, seconds: number) {
  const s = client.exec(containerId, { command: ['sh', '-c', `echo $PPID; exec sleep ${seconds}`] });
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

  it("finds the pid the exec's root has inside the container, signals it (the root passes it on), and the exec ends 143", async () => {
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

  it('two execs with the same command: each is told apart (its root names its own record) and only it is signalled', async () => {
    const t = await target(svc.client);
    containers.push(t.containerId);
    const a = svc.client.exec(t.containerId, { command: ['sleep', '304'] });
    const b = svc.client.exec(t.containerId, { command: ['sleep', '304'] });
    const { execId } = await a.ready;
    await b.ready;
    await waitUntil(
      'exec a signalled',
      async () =>
        await control.signal(t.containerId, 'TERM', execId).then(
          (r) => r,
          () => undefined,
        ),
    );
    expect(await a.exit).toBe(143);
    expect((await control.status(t.containerId)).status).toBe('running');
    b.cancel();
  });

  it("a process whose command line is exactly an exec root's → FAILED_PRECONDITION instead of a guess", async () => {
    const t = await target(svc.client);
    containers.push(t.containerId);
    const a = svc.client.exec(t.containerId, { command: ['sleep', '305'] });
    const { execId } = await a.ready;
    // A second exec root with the same command line, made past the service (docker exec of the same argv).
    const argv = (JSON.parse(await dockerApi(`/exec/${execId}/json`)) as { ProcessConfig: { entrypoint?: string; arguments?: string[] } }).ProcessConfig;
    expect(argv.entrypoint).toContain('exec-stream-shim');
    await dockerAsync('exec', '-d', t.containerId, argv.entrypoint!, ...argv.arguments!);
    const err = await grpcError(control.signal(t.containerId, 'TERM', execId));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toContain('cannot tell which process');
    a.cancel();
  });
});
