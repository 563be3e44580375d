import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ControlClient } from '@exec-stream/client';
import type { Outcome__Output } from '@exec-stream/client/wire';
import { SessionManager } from '../src/exec/session';
import { backgroundReader, inspectContainer, removeContainers, waitUntil } from './support/conditions';
import { listSessions, rawSession } from './support/raw-session';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';

// Start.timeout_ms / idle_timeout_ms / kill_grace_ms against the real engine: SIGTERM, the grace, then SIGKILL.
let server: TestServer;
const containers: string[] = [];
beforeAll(async () => {
  server = await startTestServer({ EXEC_KILL_GRACE_MS: '1000' });
});
afterAll(async () => {
  removeContainers(containers);
  await server?.close();
});

const killReason = (sessionId: string) => server.app.get(SessionManager).get(sessionId).killReason;

describe('Session Start: timeouts', () => {
  it('a hard timeout ends a sleep with SIGTERM (143) and records why', async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['sleep', '60'], timeoutMs: 1000 });
    const { sessionId } = await s.ready;
    expect(await s.wait()).toBe(143);
    expect(killReason(sessionId)).toBe('timeout');
  });

  it('a process that ignores SIGTERM gets it, then SIGKILL (137) after kill_grace_ms', async () => {
    const s = server.client.start({
      image: BASE_IMAGE,
      command: ['sh', '-c', 'trap "echo got-TERM" TERM; echo armed; while :; do sleep 0.1; done'],
      // The trap runs within the 0.1 s sleep it interrupts: a tenth of the grace.
      timeout_ms: 1000,
      kill_grace_ms: 1000,
    });
    const { sessionId } = await s.ready;
    const out = backgroundReader(s.output());
    expect(await s.exit).toBe(137);
    await out.done;
    expect(out.text()).toBe('armed\ngot-TERM\n');
    expect(killReason(sessionId)).toBe('timeout');
    expect(s.outcome).toMatchObject({ reason: 'timeout', exit_code: 137, signal: 9, timeout_signal: 9 });
  });

  it("a process that handles the timeout's SIGTERM and exits 0 by itself: the Outcome says so (SIGTERM sent, no SIGKILL)", async () => {
    const s = server.client.start({
      image: BASE_IMAGE,
      command: ['sh', '-c', 'trap "echo got-TERM; exit 0" TERM; echo armed; while :; do sleep 0.1; done'],
      timeout_ms: 1000,
      kill_grace_ms: 30_000,
    });
    await s.ready;
    const { stdout, exitCode } = await s.collect();
    expect({ stdout: stdout.toString(), exitCode }).toEqual({ stdout: 'armed\ngot-TERM\n', exitCode: 0 });
    expect(s.outcome).toMatchObject({
      reason: 'timeout',
      exit_code: 0,
      signal: 0,
      timeout_signal: 15,
      message: 'its hard timeout expired and the service sent SIGTERM; the process then exited by itself with code 0, before SIGKILL',
    });
  });

  it('an idle timeout ends a process that printed once and went quiet', async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo once; sleep 60'], idleTimeoutMs: 1000 });
    const { sessionId } = await s.ready;
    const { stdout, exitCode } = await s.collect();
    expect(stdout.toString()).toBe('once\n');
    expect(exitCode).toBe(143);
    expect(killReason(sessionId)).toBe('idle_timeout');
  });

  it('an idle timeout spares a process that keeps printing', async () => {
    // A line every 0.15 s, a tenth of the idle timeout, for 2.1 s, longer than it.
    const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'for i in $(seq 14); do echo $i; sleep 0.15; done'], idleTimeoutMs: 1500 });
    const { sessionId } = await s.ready;
    const { stdout, exitCode } = await s.collect();
    expect(exitCode).toBe(0);
    expect(stdout.toString()).toBe(Array.from({ length: 14 }, (_, i) => `${i + 1}\n`).join(''));
    expect(killReason(sessionId)).toBeUndefined();
  });

  it("timeouts beyond Node's 2^31-1 ms timer limit (up to 2^53-1 ms) do not fire early: the process ends by itself", async () => {
    const s = server.client.start({
      image: BASE_IMAGE,
      // A Node timer past 2^31-1 ms fires after 1 ms: half a second is hundreds of times that.
      command: ['sh', '-c', 'sleep 0.5; echo done'],
      timeout_ms: String(Number.MAX_SAFE_INTEGER),
      idle_timeout_ms: String(2 ** 31),
    });
    const { sessionId } = await s.ready;
    const { stdout, exitCode } = await s.collect();
    expect({ stdout: stdout.toString(), exitCode, outcome: s.outcome?.reason }).toEqual({ stdout: 'done\n', exitCode: 0, outcome: 'exited' });
    expect(killReason(sessionId)).toBeUndefined();
  });

  it("an exec's timeout ends the exec's process, not its container", async () => {
    const holder = server.client.run(BASE_IMAGE, { command: ['sleep', '120'] });
    const { containerId } = await holder.ready;
    containers.push(containerId);
    const e = server.client.exec(containerId, { command: ['sleep', '60'], timeoutMs: 1000 });
    const { sessionId } = await e.ready;
    expect(await e.wait()).toBe(143);
    expect(killReason(sessionId)).toBe('timeout');
    expect(inspectContainer(containerId).State.Running).toBe(true);
    expect(await server.client.exec(containerId, { command: ['echo', 'still here'] }).collect()).toMatchObject({
      stdout: Buffer.from('still here\n'),
      exitCode: 0,
    });
    removeContainers([containerId]);
    await holder.wait().catch(() => undefined);
  });
});

/**
 * Closes `first` as SIGTERM does (files sealed, containers left running for re-adoption), then starts a
 * service on the same data dir and replica id, which re-adopts them.
 */
async function restart(first: TestServer): Promise<TestServer> {
  for (const s of first.app.get(SessionManager).all()) if (s.running) s.files.seal();
  first.connection.close();
  await first.app.close();
  return startTestServer({ EXEC_DATA_DIR: first.dataDir, EXEC_REPLICA_ID: first.config.EXEC_REPLICA_ID, EXEC_KILL_GRACE_MS: '1000' });
}

const outcomeOf = (r: { messages: { outcome?: Outcome__Output }[] }) => r.messages.find((m) => m.outcome)?.outcome;
const ms = (ns: string | undefined) => Number(BigInt(ns ?? '0') / 1_000_000n);

describe('Session Start: timeouts across a service restart', () => {
  it('a hard timeout survives a restart: the re-adopted sleep still ends by it (143, reason timeout), counted from its start', async () => {
    const first = await startTestServer({ EXEC_KILL_GRACE_MS: '1000' });
    let second: TestServer | undefined;
    try {
      const s = first.client.run(BASE_IMAGE, { command: ['sleep', '60'], timeoutMs: 4000 });
      const { sessionId } = await s.ready;
      s.wait().catch(() => undefined); // told UNAVAILABLE by the drain
      const startedAt = first.app.get(SessionManager).get(sessionId).startedAt!;
      // Still running, unended, when the first service goes (its drain disarms the timer): what ends the
      // sleep is the re-adopting service's timer, counted from the process's start.
      expect(first.app.get(SessionManager).get(sessionId)).toMatchObject({ running: true, killReason: undefined });
      second = await restart(first);
      const session = second.app.get(SessionManager).get(sessionId);
      // Without the timeout the sleep would run its 60 s: this bound is what the test is about.
      await waitUntil('the re-adopted sleep to end by its timeout', () => !session.running, 20_000);
      const late = await rawSession(second.connection, { session_id: sessionId });
      expect(late.error).toBeUndefined();
      expect(late.kinds.slice(-2)).toEqual(['outcome', 'exit']);
      expect(late.messages.at(-1)!.exit).toBe(143);
      const outcome = outcomeOf(late)!;
      expect(outcome).toMatchObject({ reason: 'timeout', exit_code: 143, signal: 15 });
      expect(ms(outcome.started_at)).toBe(startedAt);
      expect(ms(outcome.finished_at) - startedAt).toBeGreaterThanOrEqual(4000);
      expect(JSON.parse(readFileSync(join(first.dataDir, 'sessions', sessionId, 'kill.json'), 'utf8')).reason).toBe('timeout');
    } finally {
      await second?.close();
      rmSync(first.dataDir, { recursive: true, force: true });
    }
  });

  it('why the service ended a process survives a restart: timeout before it, and idle_timeout / ContainerSignal in a grace that ends while it is down', async () => {
    const first = await startTestServer({ EXEC_KILL_GRACE_MS: '1000' });
    let second: TestServer | undefined;
    try {
      const ended = await rawSession(first.connection, { image: BASE_IMAGE, command: ['sleep', '60'], timeout_ms: 500 });
      const endedId = ended.messages[0].ready!.session_id!;
      const before = outcomeOf(ended)!;
      expect(before).toMatchObject({ reason: 'timeout', exit_code: 143 });
      // SIGTERM arrives before the restart; the process takes half a second (a long grace) and ends by itself, 143,
      // by the time the next service re-adopts it. Its idle timeout would count afresh from re-adoption: only the
      // reason kept on disk can say idle_timeout / killed_by_request.
      const TERM_THEN_EXIT = ['sh', '-c', 'trap "echo got-TERM; sleep 0.5; exit 143" TERM; echo armed; while :; do sleep 0.1; done'];
      const idle = first.client.start({ image: BASE_IMAGE, command: TERM_THEN_EXIT, idle_timeout_ms: 1500, kill_grace_ms: 60_000 });
      const signalled = first.client.start({ image: BASE_IMAGE, command: TERM_THEN_EXIT });
      const [idleId, signalledReady] = [(await idle.ready).sessionId, await signalled.ready];
      const idleOut = backgroundReader(idle.output());
      const signalledOut = backgroundReader(signalled.output());
      await Promise.all([idleOut.until('got-TERM'), signalledOut.until('armed')]);
      await new ControlClient(first.connection).signal(signalledReady.containerId, 'SIGTERM');
      await signalledOut.until('got-TERM');
      second = await restart(first);
      const sessions = second.app.get(SessionManager);
      await waitUntil('the re-adopted sessions to end', () => !sessions.get(idleId).running && !sessions.get(signalledReady.sessionId).running, 20_000);

      const late = await rawSession(second.connection, { session_id: idleId });
      expect(late.messages.at(-1)!.exit).toBe(143);
      expect(outcomeOf(late)).toMatchObject({ reason: 'idle_timeout', exit_code: 143, signal: 15 });
      expect(outcomeOf(await rawSession(second.connection, { session_id: endedId }))).toEqual(before);
      const listed = await listSessions(second.connection, { state: 'finished' });
      const reasons = Object.fromEntries((listed.sessions ?? []).map((i) => [i.session_id, i.outcome?.reason]));
      expect(reasons).toEqual({ [endedId]: 'timeout', [idleId]: 'idle_timeout', [signalledReady.sessionId]: 'killed_by_request' });
    } finally {
      await second?.close();
      rmSync(first.dataDir, { recursive: true, force: true });
    }
  });
});
