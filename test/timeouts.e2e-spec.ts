import { SessionManager } from '../src/exec/session';
import { backgroundReader, inspectContainer, removeContainers } from './support/conditions';
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
      timeout_ms: 1500,
      kill_grace_ms: 1500,
    });
    const { sessionId } = await s.ready;
    const out = backgroundReader(s.output());
    expect(await s.exit).toBe(137);
    await out.done;
    expect(out.text()).toBe('armed\ngot-TERM\n');
    expect(killReason(sessionId)).toBe('timeout');
  });

  it('an idle timeout ends a process that printed once and went quiet', async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo once; sleep 60'], idleTimeoutMs: 1500 });
    const { sessionId } = await s.ready;
    const { stdout, exitCode } = await s.collect();
    expect(stdout.toString()).toBe('once\n');
    expect(exitCode).toBe(143);
    expect(killReason(sessionId)).toBe('idle_timeout');
  });

  it('an idle timeout spares a process that keeps printing', async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do echo $i; sleep 0.3; done'], idleTimeoutMs: 3000 });
    const { sessionId } = await s.ready;
    const { stdout, exitCode } = await s.collect();
    expect(exitCode).toBe(0);
    expect(stdout.toString()).toBe('1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n');
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
