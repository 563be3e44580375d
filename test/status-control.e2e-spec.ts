import { status as Code } from '@grpc/grpc-js';
import { ControlClient } from '@exec-stream/client';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';
import { subscriptionsRegistered } from './support/lifecycle';
import { docker, grpcError, managedLabels, sleep } from './support/helpers';
import { inspectContainer, waitUntil } from './support/conditions';
import type { ExecSession } from '@exec-stream/client';

let server: TestServer;
let control: ControlClient;
const fixtures: string[] = [];
beforeAll(async () => {
  server = await startTestServer();
  control = new ControlClient(server.connection);
});
afterAll(async () => {
  if (fixtures.length) docker('rm', '-f', '-v', ...fixtures);
  for (const id of fixtures) expect(inspectContainer(id)).toBeUndefined();
  await server?.close();
});

/** Waits until Docker no longer has the container (the service removes a run's container once it ended). */
const gone = (containerId: string) => waitUntil(`container ${containerId.slice(0, 12)} removed`, () => inspectContainer(containerId) === undefined, 15_000);

/** Reads a session's output in the background; `text()` is what arrived so far. */
function reader(session: ExecSession) {
  let text = '';
  const done = (async () => {
    for await (const p of session.output()) text += p.data.toString();
  })();
  return {
    text: () => text,
    lines: () => text.split('\n').filter(Boolean),
    done,
    until: (pred: (t: string) => boolean, timeoutMs = 10_000) => waitUntil(`output (so far ${JSON.stringify(text.slice(-200))})`, () => pred(text), timeoutMs),
  };
}

/** Seconds since boot, as the kernel counts them (the same clock inside a container: /proc/uptime). */
const uptime = () => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
/** A numbered line every 50 ms, each with the kernel's uptime when it was written (10 ms resolution). */
const LOOP = 'i=0; while :; do i=$((i+1)); echo "$i $(cut -d\' \' -f1 /proc/uptime)"; sleep 0.05; done';

it('pause stops output progress and resume continues it; status and lifecycle follow', async () => {
  const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', LOOP] });
  const { containerId } = await s.ready;
  const out = reader(s);
  await out.until((t) => t.split('\n').length > 5);
  const sub = control.lifecycle({ containerId });
  await subscriptionsRegistered(server.app, containerId, sub);

  expect(await control.pause(containerId)).toMatchObject({ success: true, message: expect.stringContaining('paused') });
  const pausedAt = uptime(); // Docker has frozen the container: nothing it writes can be stamped after this
  expect((await control.status(containerId)).status).toBe('paused');
  const linesAtPause = out.lines().length;
  await sleep(500); // the stretch observed (10 loop turns): what it must not contain is asserted below, from stamps
  const resumedAt = uptime();
  expect(await control.resume(containerId)).toMatchObject({ success: true });
  await out.until((t) => t.split('\n').filter(Boolean).length > linesAtPause + 5);
  expect((await control.status(containerId)).status).toBe('running');
  // Every line was written before the pause or after the resume (stamps are 10 ms ticks: 20 ms of slack
  // each side); the loop numbers them without a gap, so none was lost either.
  const lines = out.lines().map((l) => l.split(' ').map(Number));
  expect(lines.filter(([, at]) => at > pausedAt + 0.02 && at < resumedAt - 0.02)).toEqual([]);
  expect(lines.some(([, at]) => at <= pausedAt)).toBe(true);
  expect(lines.some(([, at]) => at >= resumedAt)).toBe(true);
  expect(lines.map(([n]) => n)).toEqual(lines.map((_, i) => i + 1));

  await control.signal(containerId, 'SIGKILL');
  await out.done;
  expect(await s.exit).toBe(137);
  const seen = await sub.waitFor((e) => e.type === 'exited');
  sub.close();
  expect(seen.map((e) => e.type)).toEqual(['paused', 'resumed', 'killed', 'exited']);
});

it('status during a busy loop: running, memory, a real CPU percentage once two readings are in (the first call says how many it has); then exited with the code', async () => {
  const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo go; while :; do :; done'] });
  const { containerId } = await s.ready;
  const out = reader(s);
  await out.until((t) => t.includes('go'));
  // The cold path: no warm-up; the first call waits for the sampler's first two readings itself.
  const first = await control.status(containerId, true);
  expect(first).toMatchObject({ containerId, status: 'running', exitCode: undefined, finishedAtNs: undefined });
  expect(first.startedAtNs).toBeGreaterThan(BigInt(Date.now() - 60_000) * 1_000_000n);
  // The first call waits for two of Docker's readings at most 2.5 s (docs/PROTOCOL.md): on a busy engine
  // Docker's first reading can come later, and then the call says so (readings 1, CPU 0 until there are two).
  const u0 = first.resourceUsage!;
  if (u0.readings === 2) expect(u0.cpuPercent).toBeGreaterThan(0);
  else expect({ readings: u0.readings, cpuPercent: u0.cpuPercent }).toEqual({ readings: u0.readings, cpuPercent: 0 });
  const u =
    u0.readings === 2
      ? u0
      : await waitUntil(
          'two readings',
          async () => {
            const r = (await control.status(containerId, true)).resourceUsage!;
            return r.readings === 2 && r;
          },
          15_000,
        );
  // A shell spinning: up to 100 % of one CPU, less when other work shares the cores, but never zero,
  // and never more than the CPUs there are (Docker's percentage is of one CPU).
  expect(u.cpuPercent).toBeGreaterThan(0);
  expect(u.cpuPercent).toBeLessThanOrEqual(cpus().length * 100 + 5);
  expect(u.memoryBytes).toBeGreaterThan(0);
  expect(u.memoryLimit).toBeGreaterThan(u.memoryBytes);
  // A later call answers from the sampler's newer readings: the loop still counts. (How fast such calls
  // are is bench scenario 7's, ContainerStatus with resource usage.)
  expect((await control.status(containerId, true)).resourceUsage!.cpuPercent).toBeGreaterThan(0);

  expect((await control.status(containerId)).resourceUsage).toBeUndefined(); // only when asked
  await control.signal(containerId, '9');
  await out.done;
  expect(await s.exit).toBe(137);
  // Whether Docker still has it, is removing it, or no longer has it (the retained session answers).
  const after = await control.status(containerId.slice(0, 12), true);
  expect(after.status).toBe('exited');
  expect(after.exitCode).toBe(137);
  expect(after.finishedAtNs!).toBeGreaterThanOrEqual(after.startedAtNs);
  expect(after.resourceUsage).toBeUndefined();
});

it('status of a finished session whose container is gone comes from the retained session', async () => {
  const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'exit 7'] });
  const { containerId } = await s.ready;
  expect(await s.wait()).toBe(7);
  await gone(containerId); // EXEC_REMOVE_CONTAINERS (default true): the service removes it itself
  const st = await control.status(containerId);
  expect(st).toMatchObject({ containerId, status: 'exited', exitCode: 7 });
  expect(st.finishedAtNs!).toBeGreaterThanOrEqual(st.startedAtNs);
  expect(st.startedAtNs).toBeGreaterThan(0n);
});

it('status right after the exit, while the service removes the container: exited with its code and finished_at, never `removing`', async () => {
  // 5000 files in its layer make Docker's removal last ~0.1 s instead of a few ms.
  const s = server.client.run(BASE_IMAGE, {
    command: ['sh', '-c', 'mkdir /d && cd /d && seq 1 5000 | xargs touch; echo ready; read x; exit 5'],
    openStdin: true,
  });
  const { containerId } = await s.ready;
  const out = reader(s);
  await out.until((t) => t.includes('ready'));
  const sub = control.lifecycle({ containerId });
  // Ask again and again, eight callers at once, from before the exit until Docker reports the container
  // destroyed (and a few times after), so that the removal is sure to be asked about.
  const seen: string[] = [];
  const events: string[] = [];
  const poll = async () => {
    for (let after = 0; after < 10 && seen.length < 50_000;) {
      const st = await control.status(containerId);
      seen.push(st.status);
      if (st.status !== 'running') {
        expect(st).toMatchObject({ containerId, status: 'exited', exitCode: 5 });
        expect(st.finishedAtNs!).toBeGreaterThanOrEqual(st.startedAtNs);
      }
      events.push(...sub.drain().map((e) => e.type));
      if (events.includes('destroyed')) after++;
    }
  };
  const polling = Promise.all(Array.from({ length: 8 }, poll));
  await waitUntil('the first status answer', () => seen.length > 0);
  await s.write(Buffer.from('go\n'));
  await out.done;
  expect(await s.exit).toBe(5);
  await polling;
  expect(events).toContain('destroyed');
  sub.close();
  expect(seen.at(-1)).toBe('exited');
});

it('status with resource usage of a container that exits while its first readings are awaited answers its final state', async () => {
  const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo up; read x; sleep 0.3; exit 3'], openStdin: true });
  const { containerId } = await s.ready;
  const out = reader(s);
  await out.until((t) => t.includes('up'));
  // Just started: the sampler has no two readings yet (they come ~1 s apart), so this call waits on them,
  // and the container exits meanwhile (0.3 s after the line; the call's inspect takes milliseconds).
  const pending = control.status(containerId, true);
  await s.write(Buffer.from('go\n'));
  const st = await pending;
  expect(st).toMatchObject({ containerId, status: 'exited', exitCode: 3, resourceUsage: undefined });
  expect(st.finishedAtNs!).toBeGreaterThanOrEqual(st.startedAtNs);
  await out.done;
  expect(await s.exit).toBe(3);
});

it('signal names: trimmed, any case, with or without SIG, and numbers reach the process', async () => {
  const s = server.client.run(BASE_IMAGE, {
    command: ['sh', '-c', "trap 'echo usr1' USR1; trap 'echo usr2' USR2; echo ready; while :; do sleep 0.05; done"],
  });
  const { containerId } = await s.ready;
  const out = reader(s);
  await out.until((t) => t.includes('ready'));
  for (const [form, want, n] of [
    [' sigusr1 ', 'SIGUSR1', 1],
    ['Usr2', 'SIGUSR2', 1],
    ['10', 'SIGUSR1', 2],
    ['SigUsr2', 'SIGUSR2', 2],
  ] as const) {
    const r = await control.signal(containerId, form);
    expect(r.message).toContain(want);
    const line = want === 'SIGUSR1' ? 'usr1' : 'usr2';
    await out.until((t) => t.split('\n').filter((l) => l === line).length >= n);
  }
  await control.signal(containerId, 'KILL');
  await out.done;
  expect(await s.exit).toBe(137);
});

it('SIGTERM to an exec session reaches its process (exit 143) and leaves the container running', async () => {
  const main = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo up; while :; do sleep 0.1; done'] });
  const { containerId } = await main.ready;
  const mainOut = reader(main);
  await mainOut.until((t) => t.includes('up'));
  const sub = control.lifecycle({ containerId });
  // Two execs with the same command: the signal must reach the one named, not the other.
  const cmd = ['sh', '-c', 'echo ready; while :; do echo tick; sleep 0.1; done'];
  const e1 = server.client.exec(containerId, { command: cmd });
  const e2 = server.client.exec(containerId, { command: cmd });
  const r1 = await e1.ready;
  await e2.ready;
  const o1 = reader(e1);
  const o2 = reader(e2);
  await o1.until((t) => t.includes('ready'));
  await o2.until((t) => t.includes('ready'));
  expect(r1.execId).toMatch(/^[0-9a-f]{64}$/);

  const res = await control.signal(containerId, 'TERM', r1.execId);
  expect(res).toMatchObject({ success: true, message: expect.stringContaining(`exec ${r1.execId.slice(0, 12)}`) });
  await o1.done;
  expect(await e1.exit).toBe(143); // killed by the signal: 128 + 15, from the kernel, no trap involved
  const killed = (await sub.waitFor((e) => e.type === 'killed')).pop()!;
  expect(killed).toMatchObject({ signal: 15, execId: r1.execId, containerId });
  expect(killed.sessionId).toBe(r1.sessionId);

  expect((await control.status(containerId)).status).toBe('running');
  const before = o2.text().length;
  await o2.until((t) => t.length > before); // the other exec goes on
  // A finished exec cannot be signalled.
  expect((await grpcError(control.signal(containerId, 'TERM', r1.execId))).code).toBe(Code.FAILED_PRECONDITION);
  await control.signal(containerId, 'KILL', (await e2.ready).execId);
  expect(await e2.wait()).toBe(137);
  await control.signal(containerId, 'KILL');
  await mainOut.done;
  sub.close();
});

describe('bad input gets its code', () => {
  let running: string;
  let session: ExecSession;
  beforeAll(async () => {
    session = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'while :; do sleep 0.1; done'] });
    running = (await session.ready).containerId;
  });
  afterAll(async () => {
    await control.signal(running, 'KILL');
    expect(await session.wait()).toBe(137);
    await gone(running);
  });

  it('empty container id → INVALID_ARGUMENT on every RPC', async () => {
    for (const call of [
      () => control.status(''),
      () => control.status('  '),
      () => control.pause(''),
      () => control.resume(''),
      () => control.signal('', 'TERM'),
    ]) {
      const err = await grpcError(call());
      expect(err.code).toBe(Code.INVALID_ARGUMENT);
      expect(err.details).toMatch(/container_id is empty/);
    }
  });

  it('unknown container → NOT_FOUND', async () => {
    const unknown = 'f'.repeat(64);
    for (const call of [() => control.status(unknown), () => control.pause(unknown), () => control.resume(unknown), () => control.signal(unknown, 'TERM')]) {
      expect((await grpcError(call())).code).toBe(Code.NOT_FOUND);
    }
  });

  it('a container not managed by the service → PERMISSION_DENIED', async () => {
    const foreign = docker('create', '--network', 'none', BASE_IMAGE, 'sleep', '60');
    fixtures.push(foreign);
    for (const call of [() => control.status(foreign), () => control.pause(foreign), () => control.resume(foreign), () => control.signal(foreign, 'TERM')]) {
      const err = await grpcError(call());
      expect(err.code).toBe(Code.PERMISSION_DENIED);
      expect(err.details).toMatch(/not managed/);
    }
  });

  it('a container that is not running → FAILED_PRECONDITION; resume of a running one too', async () => {
    const created = docker('create', ...managedLabels(server.config.EXEC_REPLICA_ID), BASE_IMAGE, 'sleep', '60');
    fixtures.push(created);
    expect((await control.status(created)).status).toBe('created');
    for (const call of [() => control.pause(created), () => control.resume(created), () => control.signal(created, 'TERM')]) {
      const err = await grpcError(call());
      expect(err.code).toBe(Code.FAILED_PRECONDITION);
      expect(err.details).toMatch(/created/);
    }
    expect((await grpcError(control.resume(running))).code).toBe(Code.FAILED_PRECONDITION);
    await control.pause(running);
    expect((await grpcError(control.pause(running))).code).toBe(Code.FAILED_PRECONDITION);
    expect((await grpcError(control.signal(running, 'TERM'))).code).toBe(Code.FAILED_PRECONDITION);
    await control.resume(running);
  });

  it('a bad signal → INVALID_ARGUMENT naming the accepted forms, before anything is sent', async () => {
    for (const bad of ['', 'SIGFOO', 'TERMINATE', '0', '65', '-9', '1.5', 'SIG']) {
      const err = await grpcError(control.signal(running, bad));
      expect(err.code).toBe(Code.INVALID_ARGUMENT);
      expect(err.details).toMatch(/SIGTERM, sigterm, TERM/);
    }
    expect((await control.status(running)).status).toBe('running');
  });

  it('an unknown exec, or an exec of another container → NOT_FOUND / INVALID_ARGUMENT', async () => {
    expect((await grpcError(control.signal(running, 'TERM', 'e'.repeat(64)))).code).toBe(Code.NOT_FOUND);
    const other = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'while :; do sleep 0.1; done'] });
    const otherId = (await other.ready).containerId;
    const ex = server.client.exec(otherId, { command: ['sh', '-c', 'while :; do sleep 0.1; done'] });
    const { execId } = await ex.ready;
    const err = await grpcError(control.signal(running, 'TERM', execId));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.details).toMatch(/belongs to container/);
    await control.signal(otherId, 'KILL');
    expect(await other.wait()).toBe(137);
    await ex.wait().catch(() => undefined); // the exec ends with its container, however it is reported
    await gone(otherId);
  });
});
