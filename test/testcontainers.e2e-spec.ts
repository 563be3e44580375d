/**
 * docs/CLIENTS.md, "Testing your service": ExecStreamContainer (@exec-stream/client/testcontainers)
 * starts the service's image, built here by scripts/image-build.sh (cached per tree hash, as
 * test/image.e2e-spec.ts builds it), on the host's Docker engine through testcontainers-node, with a
 * random token; start() returns once gRPC health says SERVING, with a connected client; stop() removes
 * the service's container and every container the service ran. Ryuk (testcontainers' reaper) cannot be
 * pulled here: TESTCONTAINERS_RYUK_DISABLED=true, and the module's own clean-up is what is checked.
 * This engine runs without a bridge network (dockerd --bridge=none): the container uses the host's
 * network (withHostNetwork) instead of a published port, and testcontainers is told the host
 * (TESTCONTAINERS_HOST_OVERRIDE) instead of looking for the bridge network's gateway.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Code, ControlClient, GRPCConnectionManager, type ExecError } from '@exec-stream/client';
import { ExecStreamContainer, type StartedExecStreamContainer } from '@exec-stream/client/testcontainers';
import { docker } from './support/helpers';
import { BASE_IMAGE } from './support/server';

jest.setTimeout(120_000);
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';

let image: string;
let started: StartedExecStreamContainer | undefined;

beforeAll(() => {
  image = execFileSync('bash', [join(__dirname, '..', 'scripts', 'image-build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    .trim()
    .split('\n')
    .pop()!;
}, 600_000);
afterAll(async () => {
  await started?.stop().catch(() => undefined);
});

it('starts the image with a random token, waits for gRPC health, hands back a connected client; stop() leaves nothing behind', async () => {
  started = await new ExecStreamContainer(image).withHostNetwork().start();
  const replica = started.getReplicaId();
  expect(started.getToken()).toMatch(/^[0-9a-f]{48}$/);
  // Connected: a command runs on the host's engine and its output and exit code come back.
  const s = started.getClient().run(BASE_IMAGE, { command: ['sh', '-c', 'echo from-testcontainers; exit 5'] });
  expect(await s.collect()).toMatchObject({ stdout: Buffer.from('from-testcontainers\n'), exitCode: 5 });
  // The token is required: a client without it is refused.
  const anonymous = new GRPCConnectionManager({ address: started.getAddress() });
  const err = await new ControlClient(anonymous).listSessions().catch((e: ExecError) => e);
  anonymous.close();
  expect({ code: (err as ExecError).code, reason: (err as ExecError).reason }).toEqual({ code: Code.UNAUTHENTICATED, reason: 'TOKEN_INVALID' });
  // A container the service runs and leaves running: stop() removes it, and the service's own.
  const sleeper = started.getClient().run(BASE_IMAGE, { command: ['sleep', '300'] });
  const { containerId } = await sleeper.ready;
  expect(docker('ps', '-q', '--no-trunc', '--filter', `label=exec-stream.replica=${replica}`)).toBe(containerId);
  const serviceContainer = started.getId();
  await started.stop();
  started = undefined;
  expect(docker('ps', '-aq', '--filter', `label=exec-stream.replica=${replica}`)).toBe('');
  expect(docker('ps', '-aq', '--filter', `id=${serviceContainer}`)).toBe('');
});
