import { status as Code, type ServiceError } from '@grpc/grpc-js';
import { ControlClient, type LifecycleEventInfo } from '@exec-stream/client';
import { backgroundReader } from './support/conditions';
import { secondEngine, type SecondEngine } from './support/docker-engine';
import { engine as engineScript } from './support/engine-async';
import { dockerAsync, managedLabels, sleep } from './support/helpers';
import { subscriptionsRegistered } from './support/lifecycle';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';

// Docker outages, on a second engine of this suite's own (scripts/docker-engine.sh): never the shared one.
// The engine is started, stopped and killed asynchronously (engine-async.ts) once the service runs in
// this process: it must go on serving, and retrying, meanwhile.
jest.setTimeout(120_000);

let engine: SecondEngine;
let server: TestServer;
let control: ControlClient;
beforeAll(async () => {
  engine = secondEngine('e2e-outage');
  engine.start();
  server = await startTestServer({ DOCKER_HOST: engine.host });
  control = new ControlClient(server.connection);
});
afterAll(async () => {
  await server?.close();
  engine?.start(); // a failed test may have left it down: bring it back to remove what is left
  for (const id of await ours()) engine.docker('rm', '-f', '-v', '-v', id);
  engine?.stop();
});

/** Ids of the containers this suite's service instance has on the engine (label exec-stream.replica). */
async function ours(): Promise<string[]> {
  const ids = await dockerAsync('-H', engine.host, 'ps', '-aq', '--filter', `label=exec-stream.replica=${server.config.EXEC_REPLICA_ID}`);
  return ids.split('\n').filter(Boolean);
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(100);
  }
}

it('a dockerd restart (SIGTERM) is reported and the subscription goes on', async () => {
  const sub = control.lifecycle();
  await subscriptionsRegistered(server.app, 'e'.repeat(64), sub);
  try {
    await engineScript(engine.name, 'stop');
    const down = await sub.waitFor((e) => e.type === 'events_disconnected', 30_000);
    expect(down[down.length - 1]).toMatchObject({ containerId: '', source: 'service' });
  } finally {
    await engineScript(engine.name, 'start');
  }
  const up = await sub.waitFor((e) => e.type === 'events_reconnected', 30_000);
  expect(up[up.length - 1].message).toMatch(/reconnected/);
  // The same call still delivers: a container started now shows up on it.
  const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo after-restart'] });
  const { containerId } = await s.ready;
  expect(await s.wait()).toBe(0);
  const after = await sub.waitFor((e) => e.containerId === containerId && e.type === 'exited');
  expect(after.map((e) => e.type)).toEqual(expect.arrayContaining(['started', 'exited']));
  // Only Docker's events report `created` (the executor says `registered`): the events connection is live.
  expect(after.find((e) => e.type === 'created')?.source).toBe('docker');
  expect(sub.ended).toBe(false);
  sub.close();
});

it("dockerd kill -9 mid-run: the session ends with Docker's outcome and no container of this instance remains", async () => {
  const sub = control.lifecycle();
  await subscriptionsRegistered(server.app, 'e'.repeat(64), sub);
  const events: LifecycleEventInfo[] = [];
  /** The events so far (in any order relative to the session's end) once one matches. */
  const seen = async (what: string, pred: (e: LifecycleEventInfo) => boolean) => {
    await until(what, () => (events.push(...sub.drain()), events.some(pred)));
    return events.filter(pred);
  };
  const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo before; exec sleep 600'] });
  const { containerId, sessionId } = await s.ready;
  const out = s.output()[Symbol.asyncIterator]();
  expect((await out.next()).value?.data.toString()).toBe('before\n');
  // A container of this instance that no session owns and that never started (as made during a shutdown).
  const orphan = await dockerAsync(
    ...['-H', engine.host, 'create', ...managedLabels(server.config.EXEC_REPLICA_ID), '--label', 'exec-stream.session=never-started', BASE_IMAGE, 'true'],
  );
  expect(await ours()).toEqual(expect.arrayContaining([containerId.slice(0, 12), orphan.slice(0, 12)]));

  await engineScript(engine.name, 'kill');
  await seen('events_disconnected', (e) => e.type === 'events_disconnected');
  await engineScript(engine.name, 'start'); // dockerd (no live-restore) stops the container it finds running (SIGTERM via init: 143)

  // The session waited for Docker instead of ending UNAVAILABLE: it ends with the exit code Docker recorded.
  for (let r = await out.next(); !r.done; r = await out.next()) expect(r.value.data.toString()).toBe('');
  const exitCode = await s.exit;
  const died = await seen("Docker's exit of the container", (e) => e.containerId === containerId && e.type === 'exited' && e.source === 'docker');
  expect(died.map((e) => e.exitCode)).toEqual(died.map(() => exitCode));
  expect([137, 143]).toContain(exitCode);
  await seen('events_reconnected', (e) => e.type === 'events_reconnected');
  // Nothing asked for it: the reconciliation after the events reconnect removes the orphan.
  await until('no container of this instance left on the engine', async () => (await ours()).length === 0);
  expect(await control.status(containerId)).toMatchObject({ status: 'exited', exitCode });
  const again = await server.client.attach({ sessionId }).collect();
  expect(again.stdout.toString()).toBe('before\n');
  expect(again.exitCode).toBe(exitCode);
  sub.close();
});

it('dockerd kill -9 mid-run: an exec ends with its error at once (Docker keeps no log of exec output), while the run waits for Docker', async () => {
  const run = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo up; exec sleep 600'] });
  const { containerId } = await run.ready;
  const runOut = backgroundReader(run.output());
  await runOut.until('up\n');
  const exec = server.client.exec(containerId, { command: ['sh', '-c', 'echo in-exec; exec sleep 600'] });
  const execOut = backgroundReader(exec.output());
  await execOut.until('in-exec\n');
  let runEnded = false;
  runOut.done.then(
    () => (runEnded = true),
    () => (runEnded = true),
  );
  engine.kill();
  try {
    const err = await execOut.done.then(
      () => undefined,
      (e: ServiceError) => e,
    );
    // An error status, not an exit code; the run's session is still waiting at that moment.
    expect(err && { code: Code[err.code], runEnded }).toEqual({ code: expect.stringMatching(/^(UNAVAILABLE|ABORTED)$/), runEnded: false });
  } finally {
    engine.start();
  }
  // Docker back (no live-restore: it stopped the container), the run ends with Docker's exit code.
  await runOut.done;
  expect([137, 143]).toContain(await run.exit);
});
