// docs/PROTOCOL.md, exit codes: "When the outcome cannot be known (Docker unreachable mid-run, the
// container vanished, the stream cut inside a frame) the call ends with UNAVAILABLE or ABORTED and a
// message, never exit." And docs/LIFECYCLE.md: ContainerStatus of a retained session whose outcome was
// lost is `unknown`. The service reaches the real engine through a byte-for-byte socket proxy that can
// cut one attach stream at a chosen byte.
import { status } from '@grpc/grpc-js';
import { ControlClient, type ExecSession } from '@exec-stream/client';
import { BASE_IMAGE, startTestServer, type TestServer } from '../support/server';
import { grpcError } from '../support/helpers';
import { backgroundReader, inspectContainer, waitUntil } from '../support/conditions';
import { DockerSocketProxy } from '../support/docker-socket-proxy';
import { buildCli, cliEnv, runCli } from '../support/cli';

let proxy: DockerSocketProxy;
let server: TestServer;
let control: ControlClient;
beforeAll(async () => {
  proxy = new DockerSocketProxy();
  server = await startTestServer({ DOCKER_HOST: await proxy.listen() });
  control = new ControlClient(server.connection);
});
afterAll(async () => {
  await server?.close();
  await proxy?.close();
});

/** Collects the output and how the call ended: an exit code, or a gRPC error. */
async function ending(s: ExecSession) {
  const out = backgroundReader(s.output());
  const exit = await s.exit.then(
    (code) => ({ code }),
    (err) => ({ error: err as { code: number; details: string } }),
  );
  await out.done.catch(() => undefined);
  return { stdout: out.text(), ...exit };
}

it("Docker's output stream cut inside a frame → ABORTED, the bytes before the cut delivered, never an exit; ContainerStatus then says unknown", async () => {
  // Body: frame "ready\n" (8 + 6 bytes), then the header of "more-output-line\n" and 5 of its bytes.
  const cut = proxy.cutNextAttach(14 + 8 + 5);
  // The process ends on its own soon after (exit 0): that code must not be reported as the outcome.
  const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo ready; echo more-output-line; sleep 1'] });
  const { containerId } = await s.ready;
  expect(await cut).toBe(containerId);
  const r = await ending(s);
  expect(r).toMatchObject({ error: { code: status.ABORTED, details: expect.stringContaining('inside a frame') } });
  expect(r).not.toHaveProperty('code');
  // What came before the cut, and not all of the second line.
  expect(r.stdout.startsWith('ready\nmore-')).toBe(true);
  expect('ready\nmore-output-line\n'.startsWith(r.stdout) && r.stdout.length < 23).toBe(true);
  // The session is over for the service: its container is removed (EXEC_REMOVE_CONTAINERS), and the
  // retained session answers ContainerStatus.
  await waitUntil('the container removed', () => inspectContainer(containerId) === undefined);
  const st = await control.status(containerId);
  expect(st).toMatchObject({ containerId, status: 'unknown', exitCode: undefined });
  // A later client is told the same; the CLI exits 125 (never 0) with one line naming it (docs/CLI.md).
  expect((await grpcError(server.client.attach({ containerId }).wait())).code).toBe(status.ABORTED);
  buildCli();
  const cli = await runCli(['attach', containerId], cliEnv({ EXEC_ADDR: server.address }));
  expect({ code: cli.code, stderr: cli.stderr.toString() }).toEqual({ code: 125, stderr: expect.stringMatching(/^exec-stream: .*ABORTED \(10\): .*\n$/) });
});
