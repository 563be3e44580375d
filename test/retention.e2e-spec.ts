import { status, type ServiceError } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SessionManager } from '../src/exec/session-manager';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';

jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function finished(server: TestServer, command: string[]) {
  const s = server.client.run(BASE_IMAGE, { command });
  const { sessionId } = await s.ready;
  const r = await s.collect();
  return { sessionId, ...r, dir: join(server.dataDir, 'sessions', sessionId) };
}

async function attachError(server: TestServer, sessionId: string): Promise<ServiceError | undefined> {
  return server.client
    .attach({ sessionId })
    .wait()
    .then(
      () => undefined,
      (e: ServiceError) => e,
    );
}

describe('by age (EXEC_RETENTION_SECONDS=1)', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer({ EXEC_RETENTION_SECONDS: '1' })));
  afterAll(() => server?.close());

  it('a finished session is readable (output, exit code) until it expires, then NOT_FOUND and its files are gone', async () => {
    const s = await finished(server, ['sh', '-c', 'echo kept; echo e >&2; exit 4']);
    const again = await server.client.attach({ sessionId: s.sessionId }).collect();
    expect(again).toEqual({ stdout: Buffer.from('kept\n'), stderr: Buffer.from('e\n'), exitCode: 4 });
    expect(existsSync(s.dir)).toBe(true);
    await sleep(1800); // retention 1 s + a sweep (every 250 ms)
    const err = await attachError(server, s.sessionId);
    expect(err?.code).toBe(status.NOT_FOUND);
    expect(err?.details).toMatch(/retention/);
    expect(existsSync(s.dir)).toBe(false);
  });

  it('never removes a session while a client is attached to it', async () => {
    // 16 MB that the holder does not read: flow control keeps its cursor waiting, attached.
    const s = await finished(server, ['sh', '-c', 'head -c 16777216 /dev/zero']);
    const holder = server.client.attach({ sessionId: s.sessionId });
    await holder.ready;
    await sleep(2000);
    const check = await server.client.attach({ sessionId: s.sessionId }).collect();
    expect(sha256(check.stdout)).toBe(sha256(s.stdout));
    expect(check.exitCode).toBe(0);
    holder.cancel();
    await sleep(1800);
    expect((await attachError(server, s.sessionId))?.code).toBe(status.NOT_FOUND);
  });
});

describe('by size (EXEC_RETENTION_BYTES)', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer({ EXEC_RETENTION_BYTES: '300000' })));
  afterAll(() => server?.close());

  it('over the budget, the oldest-finished sessions go first; newer ones stay byte-exact', async () => {
    const gen = ['sh', '-c', 'head -c 120000 /dev/urandom'];
    const first = await finished(server, gen);
    const second = await finished(server, gen);
    const third = await finished(server, gen);
    const sessions = server.app.get(SessionManager);
    expect(sessions.sweep()).toBe(1); // 360 kB + index > 300 kB: one has to go
    expect((await attachError(server, first.sessionId))?.code).toBe(status.NOT_FOUND);
    for (const kept of [second, third]) {
      const r = await server.client.attach({ sessionId: kept.sessionId }).collect();
      expect(sha256(r.stdout)).toBe(sha256(kept.stdout));
      expect(r.stdout.length).toBe(120000);
    }
    expect(sessions.sweep()).toBe(0);
  });
});
