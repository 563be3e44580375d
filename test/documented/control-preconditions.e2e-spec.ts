// docs/PROTOCOL.md, errors: FAILED_PRECONDITION for an exec into a managed container that is paused
// or has exited (the created case is in test/bad-input.e2e-spec.ts). Containers made by the service.
import { status } from '@grpc/grpc-js';
import { ControlClient } from '@exec-stream/client';
import { BASE_IMAGE, startTestServer, type TestServer } from '../support/server';
import { grpcError } from '../support/helpers';
import { backgroundReader, inspectContainer } from '../support/conditions';

let server: TestServer;
let control: ControlClient;
beforeAll(async () => {
  // Kept after exit, so that there is an exited managed container to exec into.
  server = await startTestServer({ EXEC_REMOVE_CONTAINERS: 'false' });
  control = new ControlClient(server.connection);
});
afterAll(() => server?.close());

it('exec into a paused container → FAILED_PRECONDITION naming the state; after resume the same exec runs', async () => {
  const run = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo ready; while :; do usleep 50000; done'] });
  const { containerId } = await run.ready;
  const out = backgroundReader(run.output());
  await out.until('ready\n');
  await control.pause(containerId);
  expect(inspectContainer(containerId)?.State.Paused).toBe(true);
  const err = await grpcError(server.client.exec(containerId, { command: ['echo', 'x'] }).wait());
  expect(err.code).toBe(status.FAILED_PRECONDITION);
  expect(err.details).toContain('paused');
  await control.resume(containerId);
  expect((await server.client.exec(containerId, { command: ['echo', 'x'] }).collect()).stdout.toString()).toBe('x\n');
  await control.signal(containerId, 'KILL');
  await out.done;
  expect(await run.exit).toBe(137);
});

it('exec into an exited container → FAILED_PRECONDITION naming the state', async () => {
  const run = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'exit 3'] });
  const { containerId } = await run.ready;
  expect(await run.wait()).toBe(3);
  expect(inspectContainer(containerId)?.State.Status).toBe('exited');
  const err = await grpcError(server.client.exec(containerId, { command: ['echo', 'x'] }).wait());
  expect(err.code).toBe(status.FAILED_PRECONDITION);
  expect(err.details).toContain('exited');
});

// A lost race on the container's state (two calls between the service's check and Docker's act, or
// a call and the process's exit) is FAILED_PRECONDITION with the state found, never UNAVAILABLE.
it('concurrent pause, resume and signal calls: one of each wins, every other is FAILED_PRECONDITION naming the state', async () => {
  const run = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo ready; while :; do usleep 50000; done'] });
  const { containerId } = await run.ready;
  const out = backgroundReader(run.output());
  await out.until('ready\n');
  const race = async (call: () => Promise<unknown>) => {
    const results = await Promise.allSettled(Array.from({ length: 16 }, call));
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as { code: number; details: string });
    expect(refused.map((e) => [e.code, e.details]).filter(([code]) => code !== status.FAILED_PRECONDITION)).toEqual([]);
    return { won: results.length - refused.length, refused };
  };
  for (let round = 0; round < 3; round++) {
    const paused = await race(() => control.pause(containerId));
    expect(paused.won).toBeGreaterThanOrEqual(1);
    expect(inspectContainer(containerId)?.State.Paused).toBe(true);
    const resumed = await race(() => control.resume(containerId));
    expect(resumed.won).toBeGreaterThanOrEqual(1);
    for (const e of resumed.refused) expect(e.details).toMatch(/is running|not paused/);
  }
  // Signals racing the exit they cause: those that find the process gone say so.
  const killed = await race(() => control.signal(containerId, 'KILL'));
  expect(killed.won).toBeGreaterThanOrEqual(1);
  for (const e of killed.refused) expect(e.details).toMatch(/exited|not running|removing|gone/);
  await out.done;
  expect(await run.exit).toBe(137);
});
