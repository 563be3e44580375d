import { status as Code } from '@grpc/grpc-js';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlClient } from '@exec-stream/client';
import { ContainerReconciler } from '../src/exec/session';
import { SessionRecovery } from '../src/exec/session';
import { docker, grpcError, managedLabels } from './support/helpers';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';
import { subscriptionsRegistered } from './support/lifecycle';

// Two instances of the service on the shared engine, replica ids `iso-a-…` and `iso-b-…` (issue 8, item 15).
const tag = `${process.pid}`;
let a: TestServer;
let b: TestServer;
let ctlA: ControlClient;
let ctlB: ControlClient;
const fixtures: string[] = [];
beforeAll(async () => {
  a = await startTestServer({ EXEC_REPLICA_ID: `iso-a-${tag}` });
  b = await startTestServer({ EXEC_REPLICA_ID: `iso-b-${tag}`, EXEC_REMOVE_CONTAINERS: 'false' });
  ctlA = new ControlClient(a.connection);
  ctlB = new ControlClient(b.connection);
});
afterAll(async () => {
  for (const id of fixtures) execFileSync('docker', ['rm', '-f', '-v', id], { stdio: 'ignore' });
  await a?.close();
  await b?.close();
});

it("an instance's lifecycle stream carries no event of another instance's containers", async () => {
  const subA = ctlA.lifecycle();
  const subB = ctlB.lifecycle();
  // Both streams open before B's container exists: A's would have B's events if anything leaked.
  await subscriptionsRegistered(a.app, 'e'.repeat(64), subA);
  await subscriptionsRegistered(b.app, 'e'.repeat(64), subB);
  const sb = b.client.run(BASE_IMAGE, { command: ['echo', 'from-b'] });
  const { containerId: idB } = await sb.ready;
  fixtures.push(idB);
  expect(await sb.wait()).toBe(0);
  await subB.waitFor((e) => e.containerId === idB && e.type === 'exited' && e.source === 'docker');
  // A's own container, run after B's ended: once A's stream has Docker's report of it, it would have had B's.
  const sa = a.client.run(BASE_IMAGE, { command: ['echo', 'from-a'] });
  const { containerId: idA } = await sa.ready;
  expect(await sa.wait()).toBe(0);
  const seenA = await subA.waitFor((e) => e.containerId === idA && e.type === 'exited' && e.source === 'docker');
  expect(seenA.filter((e) => e.containerId === idB)).toEqual([]);
  expect(seenA.some((e) => e.containerId === idA && e.type === 'created' && e.source === 'docker')).toBe(true);
  const seenB = subB.drain();
  expect(seenB.filter((e) => e.containerId === idA)).toEqual([]);
  subA.close();
  subB.close();
});

it("status, pause, resume, signal and exec on another instance's container are PERMISSION_DENIED", async () => {
  const sb = b.client.run(BASE_IMAGE, { command: ['sleep', '60'] });
  const { containerId: idB } = await sb.ready;
  fixtures.push(idB);
  expect((await ctlB.status(idB)).status).toBe('running');
  const calls = [() => ctlA.status(idB), () => ctlA.pause(idB), () => ctlA.resume(idB), () => ctlA.signal(idB, 'KILL')];
  for (const call of calls) {
    const err = await grpcError(call());
    expect(err.code).toBe(Code.PERMISSION_DENIED);
    expect(err.details).toMatch(/not managed by this exec-stream instance/);
  }
  const exec = a.client.exec(idB, { command: ['true'] });
  expect((await grpcError(exec.ready)).code).toBe(Code.PERMISSION_DENIED);
  // Untouched: still running for its owner.
  expect((await ctlB.status(idB)).status).toBe('running');
  await ctlB.signal(idB, 'KILL');
  expect(await sb.wait()).toBe(137);
});

it("recovery and reconciliation of one instance neither adopt nor remove another's containers", async () => {
  // B: a running session and an exited container it keeps (EXEC_REMOVE_CONTAINERS=false).
  const done = b.client.run(BASE_IMAGE, { command: ['echo', 'kept'] });
  const { containerId: exitedB } = await done.ready;
  fixtures.push(exitedB);
  expect(await done.wait()).toBe(0);
  const live = b.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo up; exec sleep 60'] });
  const { sessionId, containerId: runningB } = await live.ready;
  fixtures.push(runningB);
  const out = live.output()[Symbol.asyncIterator]();
  expect((await out.next()).value?.data.toString()).toBe('up\n');
  // A third instance (replica of A's kind) starts on a copy of B's session folder: recovery finds no
  // container of its own for it, so the session ends ABORTED, and B's container runs on.
  const dir = mkdtempSync(join(tmpdir(), 'exec-stream-iso-'));
  execFileSync('mkdir', ['-p', join(dir, 'sessions')]);
  execFileSync('cp', ['-r', join(b.config.EXEC_DATA_DIR, 'sessions', sessionId), join(dir, 'sessions', sessionId)]);
  const c = await startTestServer({ EXEC_REPLICA_ID: `iso-c-${tag}`, EXEC_DATA_DIR: dir });
  try {
    await c.app.get(SessionRecovery).ready;
    await c.app.get(ContainerReconciler).reconcile('test');
    const err = await grpcError(c.client.attach({ sessionId }).collect());
    expect(err.code).toBe(Code.ABORTED);
    expect(err.details).toMatch(/no longer exists/);
    expect(docker('inspect', '-f', '{{.State.Status}}', runningB)).toBe('running');
    expect(docker('inspect', '-f', '{{.State.Status}}', exitedB)).toBe('exited');
    expect((await ctlB.status(runningB)).status).toBe('running');
  } finally {
    // Not c.close(): that harness step removes the containers of c's sessions, here B's.
    c.connection.close();
    await c.app.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(c.dataDir, { recursive: true, force: true });
  }
  await ctlB.signal(runningB, 'KILL');
  for (;;) if ((await out.next()).done) break;
  expect(await live.exit).toBe(137);
});

it("a full test run's clean-up (scripts/leftover-containers.sh) takes the stopped containers of a test process that is gone, and no one else's", () => {
  const gone = spawnSync('true').pid; // a process that has ended
  const create = (replica: string) => docker('create', ...managedLabels(replica), BASE_IMAGE, 'true');
  const left = [create(`e2e-1-${gone}`), create(`e2e-child-2-${gone}`)];
  const kept = [
    create(`e2e-3-${process.pid}`), // this test process lives: its run is going on
    create(`iso-x-${gone}`), // not a test helper's replica id
    create(`bench-${gone}-4`), // a bench's
    docker('run', '-d', ...managedLabels(`e2e-5-${gone}`), BASE_IMAGE, 'sleep', '60'), // running
    docker('create', '--label', `exec-stream.replica=e2e-6-${gone}`, BASE_IMAGE, 'true'), // not the service's
  ];
  fixtures.push(...left, ...kept);
  const listed = execFileSync('bash', [join(__dirname, '..', 'scripts', 'leftover-containers.sh')], { encoding: 'utf8' }).split('\n');
  expect(listed).toEqual(expect.arrayContaining(left));
  expect(kept.filter((id) => listed.includes(id))).toEqual([]);
});
