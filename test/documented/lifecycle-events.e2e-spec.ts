// docs/LIFECYCLE.md, event types: `registered` and `unregistered` (the service's bookkeeping, besides
// Docker's `created` / `destroyed`), `oom`, and exactly one `events_disconnected` per Docker outage
// (on a second engine of this suite's own, scripts/docker-engine.sh; never the shared one).
import { ControlClient, type LifecycleEventInfo } from '@exec-stream/client';
import { BASE_IMAGE, startTestServer, type TestServer } from '../support/server';
import { dockerAsync } from '../support/helpers';
import { HangingDocker } from '../support/hanging-docker';
import { backgroundReader, waitUntil } from '../support/conditions';
import { subscriptionsRegistered } from '../support/lifecycle';
import { engine } from '../support/engine-async';

jest.setTimeout(60_000);

const NAME = 'issue16-events';
// The second engine boots while the tests on the shared engine run; the describe that uses it waits for it.
let secondEngine: Promise<string> | undefined;
beforeAll(() => {
  secondEngine = engine(NAME, 'start');
  secondEngine.catch(() => undefined); // awaited (and so reported) where it is used
});
afterAll(() => engine(NAME, 'stop').catch(() => undefined));

describe('on the shared engine', () => {
  let server: TestServer;
  let control: ControlClient;
  beforeAll(async () => {
    server = await startTestServer();
    control = new ControlClient(server.connection);
  });
  afterAll(() => server?.close());

  it('a run publishes registered (with its session) and created, then exited, unregistered and destroyed, each once', async () => {
    const sub = control.lifecycle();
    await subscriptionsRegistered(server.app, 'e'.repeat(64), sub); // before the run: its first events must reach the subscription
    const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'exit 2'] });
    const { containerId, sessionId } = await s.ready;
    expect(await s.wait()).toBe(2);
    const mine = (es: LifecycleEventInfo[]) => es.filter((e) => e.containerId === containerId);
    const seen: LifecycleEventInfo[] = [];
    const has = (t: string) => mine(seen).some((e) => e.type === t);
    while (!(has('unregistered') && has('destroyed'))) seen.push(...(await sub.waitFor((e) => e.containerId === containerId)));
    sub.close();
    const events = mine(seen);
    const types = events.map((e) => e.type);
    for (const t of ['registered', 'created', 'started', 'exited', 'unregistered', 'destroyed']) expect(types.filter((x) => x === t)).toHaveLength(1);
    const registered = events.find((e) => e.type === 'registered')!;
    expect(registered).toMatchObject({ status: 'created', sessionId, source: 'executor' });
    expect(events.find((e) => e.type === 'unregistered')).toMatchObject({ status: 'removed', source: 'executor', sessionId });
    expect(events.find((e) => e.type === 'created')).toMatchObject({ source: 'docker' });
    expect(events.find((e) => e.type === 'destroyed')).toMatchObject({ source: 'docker' });
    expect(types.indexOf('registered')).toBeLessThan(types.indexOf('started'));
    expect(types.indexOf('exited')).toBeLessThan(types.indexOf('unregistered'));
  });

  it('the OOM killer acting in a container is an `oom` event', async () => {
    // No Start field sets a memory limit: the test gives the service's container one with
    // `docker update` while it waits, then lets it allocate 64 MiB.
    const s = server.client.run(BASE_IMAGE, {
      command: ['sh', '-c', 'echo ready; read go; dd if=/dev/zero of=/dev/null bs=64M count=1; echo "dd=$?"'],
      openStdin: true,
    });
    const { containerId, sessionId } = await s.ready;
    const sub = control.lifecycle({ containerId });
    await subscriptionsRegistered(server.app, containerId, sub);
    const out = backgroundReader(s.output());
    await out.until('ready\n');
    // Asynchronously: the service in this process must go on reading the container's stream meanwhile.
    await dockerAsync('update', '--memory', '16m', '--memory-swap', '16m', containerId);
    await s.write(Buffer.from('go\n'));
    s.closeStdin();
    const seen = await sub.waitFor((e) => e.type === 'oom');
    sub.close();
    expect(seen[seen.length - 1]).toMatchObject({ containerId, sessionId, source: 'docker', status: 'running' });
    await out.done;
    expect(out.text()).toContain('dd=137'); // the allocation was killed (SIGKILL)
    expect(await s.exit).toBe(0);
  });
});

describe('on a second engine (stopped and killed here)', () => {
  let server: TestServer;
  let control: ControlClient;
  // The service reaches the engine through this endpoint, which logs its requests: the test sees each
  // attempt to reopen the events stream.
  let proxy: HangingDocker;
  beforeAll(async () => {
    const host = await engine(NAME, 'socket');
    await secondEngine;
    proxy = new HangingDocker(host.replace(/^unix:\/\//, ''));
    server = await startTestServer({ DOCKER_HOST: await proxy.listen() });
    control = new ControlClient(server.connection);
  });
  afterAll(async () => {
    await server?.close();
    await proxy?.close();
  });

  const eventsRequests = () => proxy.requests.filter((r) => r.method === 'GET' && r.path === '/events').length;

  it('each outage gives exactly one events_disconnected, however many reconnects fail, then one events_reconnected', async () => {
    const sub = control.lifecycle();
    await subscriptionsRegistered(server.app, 'e'.repeat(64), sub);
    for (const how of ['stop', 'kill'] as const) {
      await engine(NAME, how);
      await sub.waitFor((e) => e.type === 'events_disconnected');
      // Down until two attempts to reopen the events stream have failed at the missing engine (more than one
      // failure is what "however many" needs; those made while the engine was shutting down come on top).
      // Retries back off to one every 2 s: each further one would cost that.
      const before = eventsRequests();
      await waitUntil('two failed reconnect attempts', () => eventsRequests() >= before + 2, 30_000);
      await engine(NAME, 'start');
      const seen = await sub.waitFor((e) => e.type === 'events_reconnected', 20_000);
      expect(seen.filter((e) => e.type === 'events_disconnected')).toHaveLength(0);
    }
    // And none arrives while the engine stays up: a run afterwards is seen with no disconnect.
    const s = server.client.run(BASE_IMAGE, { command: ['true'] });
    const { containerId } = await s.ready;
    expect(await s.wait()).toBe(0);
    const after = await sub.waitFor((e) => e.containerId === containerId && e.type === 'exited');
    sub.close();
    expect(after.filter((e) => e.type.startsWith('events_'))).toHaveLength(0);
  });
});

describe('transitions missed while the events connection is down (a proxy in front of the shared engine cuts it)', () => {
  let proxy: HangingDocker;
  let server: TestServer;
  beforeAll(async () => {
    proxy = new HangingDocker();
    server = await startTestServer({ DOCKER_HOST: await proxy.listen() });
  });
  afterAll(async () => {
    await server?.close();
    await proxy?.close();
  });

  it('a pause, an unpause and a removal made on the engine meanwhile are published once the events connection is back', async () => {
    const sub = new ControlClient(server.connection).lifecycle();
    const s = server.client.run(BASE_IMAGE, { command: ['sleep', '600'] });
    const { containerId } = await s.ready;
    await sub.waitFor((e) => e.containerId === containerId && e.type === 'started');
    // The engine stays up; only the service's events connection goes, and its reconnects are held.
    proxy.hang('GET', /^\/events$/);
    expect(proxy.cut('GET', /^\/events$/)).toBe(1);
    await sub.waitFor((e) => e.type === 'events_disconnected');
    await dockerAsync('pause', containerId);
    await dockerAsync('unpause', containerId);
    await dockerAsync('rm', '-f', containerId);
    proxy.answerAll();
    proxy.release(); // the held reconnect fails; the next one is answered
    const seen = await sub.waitFor((e) => e.containerId === containerId && e.type === 'destroyed', 30_000);
    const afterDisconnect = seen.filter((e) => e.containerId === containerId).map((e) => e.type);
    expect(afterDisconnect).toEqual(expect.arrayContaining(['paused', 'resumed', 'destroyed']));
    expect(afterDisconnect.indexOf('paused')).toBeLessThan(afterDisconnect.indexOf('resumed'));
    expect(seen.some((e) => e.type === 'events_reconnected')).toBe(true);
    await s.wait().catch(() => undefined); // the removal ended it (137)
    sub.close();
  });
});
