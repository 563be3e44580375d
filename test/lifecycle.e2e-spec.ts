import { ControlClient, GRPCConnectionManager, type LifecycleEventInfo } from '@exec-stream/client';
import { LifecycleBus } from '../src/lifecycle/lifecycle-bus';
import type { LifecycleEventType } from '../src/lifecycle/lifecycle-event';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';
import type { LifecycleSubscription } from '@exec-stream/client';
import { subscriptionsRegistered } from './support/lifecycle';

/** Resolves once every subscription is registered on this file's server (support/lifecycle.ts). */
const registered = (containerId: string, ...subs: LifecycleSubscription[]) => subscriptionsRegistered(server.app, containerId, ...subs);

let server: TestServer;
let control: ControlClient;
beforeAll(async () => {
  server = await startTestServer();
  control = new ControlClient(server.connection);
});
afterAll(() => server?.close());

/** Reads a session's output until `text` appeared (the process is then known to be running). */
async function outputUntil(session: ReturnType<TestServer['client']['run']>, text: string): Promise<AsyncGenerator<unknown>> {
  const it = session.output();
  let seen = '';
  for (;;) {
    const { value, done } = await it.next();
    if (done) throw new Error(`output ended before "${text}"; got ${JSON.stringify(seen)}`);
    seen += (value as { data: Buffer }).data.toString();
    if (seen.includes(text)) return it;
  }
}

async function drainOutput(it: AsyncGenerator<unknown>): Promise<void> {
  for (;;) if ((await it.next()).done) return;
}

const of = (events: LifecycleEventInfo[], containerId: string) => events.filter((e) => e.containerId === containerId);

it('SIGTERM gives exit 143 and started → killed(15) → exited(143), each transition once', async () => {
  const sub = control.lifecycle();
  await registered('e'.repeat(64), sub); // before the run: its first events must reach the subscription
  // pid 1 of a container ignores signals it has no handler for (kernel rule), so the main process
  // traps TERM as any well-behaved pid 1 does; the trap's output proves the signal reached it.
  const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', "trap 'echo got-TERM; exit 143' TERM; echo ready; while :; do sleep 0.05; done"] });
  const { containerId } = await s.ready;
  const out = await outputUntil(s, 'ready');
  const r = await control.signal(containerId, 'SIGTERM');
  expect(r).toEqual({ success: true, message: expect.stringContaining('SIGTERM (15)') });
  await drainOutput(out);
  expect(await s.exit).toBe(143);
  const seen = of(await sub.waitFor((e) => e.containerId === containerId && e.type === 'destroyed'), containerId);
  sub.close();
  const types = seen.map((e) => e.type);
  const at = (t: string) => types.indexOf(t);
  for (const t of ['created', 'started', 'killed', 'exited', 'destroyed']) {
    expect(types.filter((x) => x === t)).toHaveLength(1); // reported by two sources, published once
  }
  expect(at('created')).toBeLessThan(at('started'));
  expect(at('started')).toBeLessThan(at('killed'));
  expect(at('killed')).toBeLessThan(at('exited'));
  expect(at('exited')).toBeLessThan(at('destroyed'));
  expect(seen[at('killed')]).toMatchObject({ signal: 15, status: 'running' });
  expect(seen[at('exited')]).toMatchObject({ exitCode: 143, status: 'exited' });
  const ids = seen.map((e) => e.id);
  expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  expect(new Set(ids).size).toBe(ids.length);
  expect(seen.every((e) => e.sessionId === seen[0].sessionId && e.sessionId)).toBe(true);
});

it('SIGKILL of the main process ends the session with 137 and a killed(9) event', async () => {
  const sub = control.lifecycle();
  await registered('e'.repeat(64), sub);
  const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo ready; while :; do sleep 0.05; done'] });
  const { containerId } = await s.ready;
  await outputUntil(s, 'ready');
  await control.signal(containerId, 'kill');
  expect(await s.wait()).toBe(137);
  const seen = of(await sub.waitFor((e) => e.containerId === containerId && e.type === 'exited'), containerId);
  sub.close();
  expect(seen.find((e) => e.type === 'killed')).toMatchObject({ signal: 9 });
  expect(seen.find((e) => e.type === 'exited')).toMatchObject({ exitCode: 137 });
});

it('a subscriber filtered to one container sees nothing of another', async () => {
  const a = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo ready; while :; do sleep 0.05; done'] });
  const { containerId: idA } = await a.ready;
  const outA = await outputUntil(a, 'ready');
  const filtered = control.lifecycle({ containerId: idA });
  const all = control.lifecycle();
  await registered(idA, filtered, all);
  const b = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo b'] });
  const { containerId: idB } = await b.ready;
  expect(await b.wait()).toBe(0);
  await all.waitFor((e) => e.containerId === idB && e.type === 'destroyed'); // B's events were published
  await control.pause(idA);
  await control.resume(idA);
  await control.signal(idA, 'KILL');
  await drainOutput(outA);
  const seen = await filtered.waitFor((e) => e.containerId === idA && e.type === 'destroyed');
  filtered.close();
  all.close();
  // (`unregistered`, the executor's own, may come before or after Docker's `destroyed`.) A failure names
  // each event's id, source and time: which report of a transition was published twice.
  const types = seen.map((e) => e.type).filter((t) => t !== 'unregistered');
  if (types.join() !== 'paused,resumed,killed,exited,destroyed') {
    throw new Error(`events seen: ${seen.map((e) => `#${e.id} ${e.type} (${e.source}, ${e.timestampNs})`).join('; ')}`);
  }
  expect(seen.every((e) => e.containerId === idA)).toBe(true);
  expect(seen.some((e) => e.containerId === idB)).toBe(false);
});

it('resuming after an event id misses nothing', async () => {
  const reference = control.lifecycle();
  const first = control.lifecycle();
  await registered('e'.repeat(64), reference, first);
  const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo ready; sleep 0.3; echo done'] });
  const { containerId } = await s.ready;
  // The first subscriber goes away right after seeing the start …
  const beforeGap = await first.waitFor((e) => e.containerId === containerId && e.type === 'started');
  first.close();
  const lastSeen = beforeGap[beforeGap.length - 1].id;
  expect(await s.wait()).toBe(0);
  const refEvents = await reference.waitFor((e) => e.containerId === containerId && e.type === 'destroyed');
  reference.close();
  // … and comes back after the container is gone: it gets every event after the one it saw.
  const resumed = control.lifecycle({ resumeAfterId: lastSeen });
  const got = await resumed.waitFor((e) => e.containerId === containerId && e.type === 'destroyed');
  resumed.close();
  const want = refEvents.filter((e) => e.id > lastSeen);
  expect(want.length).toBeGreaterThanOrEqual(2); // exited, destroyed at least
  expect(got.map((e) => e.id)).toEqual(want.map((e) => e.id));
  expect(got.map((e) => e.type)).toEqual(want.map((e) => e.type));
  expect(got.some((e) => e.type === 'dropped')).toBe(false);
});

it('a resume id newer than any event is INVALID_ARGUMENT', async () => {
  const sub = control.lifecycle({ resumeAfterId: 1e12 });
  await expect(sub.next(5000)).rejects.toMatchObject({ code: 3 });
});

it('a subscriber that stops reading is held back by flow control, holds back neither the bus history nor another subscriber, and is told what it lost', async () => {
  const bus = server.app.get(LifecycleBus);
  const fake = 'f'.repeat(64); // synthetic transitions: only the bus and the gRPC path are exercised here
  // The stalled reader on a channel with HTTP/2's default 64 KiB window (our client opens 4 MiB for bulk
  // output, which would take in every event of this test before flow control reached the server).
  const slowConnection = new GRPCConnectionManager({
    address: server.address,
    token: server.config.EXEC_AUTH_TOKEN,
    channelOptions: { 'grpc-node.flow_control_window': 65_535 },
  });
  const slow = new ControlClient(slowConnection).lifecycle({ containerId: fake });
  const fast = control.lifecycle({ containerId: fake });
  await registered(fake, slow, fast);
  slow.call.pause(); // the client stops reading: HTTP/2 flow control reaches the server
  const total = 3 * bus.historyLimit;
  const fastGot: Awaited<ReturnType<typeof fast.waitFor>> = [];
  for (let i = 0; i < total;) {
    for (const end = i + 100; i < end && i < total; i++) {
      bus.publish({ containerId: fake, type: 'synthetic' as LifecycleEventType, status: 'running', message: `n=${i}` }); // a type no source publishes
    }
    // The reader that keeps up gets each batch while `slow` reads nothing: the slow one never holds it back.
    fastGot.push(...(await fast.waitFor((e) => e.message === `n=${i - 1}`, 30_000)));
  }
  expect(fastGot.filter((e) => e.type === 'synthetic')).toHaveLength(total); // … and loses nothing
  expect(fastGot.some((e) => e.type === 'dropped')).toBe(false);
  // The bus keeps no more than its history for the reader that stopped (memory bounded, no queue behind it).
  expect(bus.lastId - bus.oldestId + 1).toBeLessThanOrEqual(bus.historyLimit);
  const early = slow.drain(); // what reached it before it stopped reading
  expect(early.length).toBeLessThan(total); // it really was held back: not everything reached it
  slow.call.resume();
  const slowGot = [...early, ...(await slow.waitFor((e) => e.message === `n=${total - 1}`, 30_000))];
  const dropped = slowGot.filter((e) => e.type === 'dropped');
  const delivered = slowGot.filter((e) => e.type === 'synthetic');
  expect(dropped.length).toBeGreaterThanOrEqual(1);
  expect(delivered.length + dropped.reduce((n, e) => n + e.dropped, 0)).toBe(total); // every event delivered or counted
  const ids = slowGot.map((e) => e.id);
  expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  slow.close();
  slowConnection.close();
  fast.close();
}, 60_000);

// The dockerd restart test lives in engine-outage.e2e-spec.ts, on a second engine (never the shared one).
