import { status, type ServiceError } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SessionManager } from '../src/exec/session';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';
import { waitUntil } from './support/conditions';

jest.setTimeout(60_000);
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

/** The service no longer holds the session (polled in-process: polling by attach would hold it). */
function forgotten(server: TestServer, sessionId: string): boolean {
  try {
    server.app.get(SessionManager).get(sessionId);
    return false;
  } catch {
    return true;
  }
}

describe('by age', () => {
  it('a finished session is readable (output, exit code) until it expires, then NOT_FOUND and its files are gone', async () => {
    // A retention of an hour, and the sweep asked for with a clock an hour on: nothing here depends on
    // how soon the re-attach comes. (The periodic sweeper is the next test's.)
    const server = await startTestServer({ EXEC_RETENTION_SECONDS: '3600' });
    try {
      const sessions = server.app.get(SessionManager);
      const s = await finished(server, ['sh', '-c', 'echo kept; echo e >&2; exit 4']);
      const finishedAt = sessions.get(s.sessionId).finishedAt!;
      expect(sessions.sweep(finishedAt + 3_599_000)).toBe(0);
      const again = await server.client.attach({ sessionId: s.sessionId }).collect();
      expect(again).toEqual({ stdout: Buffer.from('kept\n'), stderr: Buffer.from('e\n'), exitCode: 4 });
      expect(existsSync(s.dir)).toBe(true);
      expect(sessions.sweep(finishedAt + 3_600_000)).toBe(1);
      const err = await attachError(server, s.sessionId);
      expect(err?.code).toBe(status.NOT_FOUND);
      expect(err?.details).toMatch(/retention/);
      await waitUntil('its folder to be removed', () => !existsSync(s.dir), 15_000);
    } finally {
      await server.close();
    }
  });

  describe('EXEC_RETENTION_SECONDS=1, swept every 250 ms', () => {
    let server: TestServer;
    beforeAll(async () => (server = await startTestServer({ EXEC_RETENTION_SECONDS: '1' })));
    afterAll(() => server?.close());

    it('never removes a session while a client is attached to it; the sweeper removes it once the client leaves', async () => {
      const sessions = server.app.get(SessionManager);
      // The holder attaches while the process still waits for its go, so no sweep can come first.
      const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'read go; head -c 16777216 /dev/zero'], openStdin: true });
      const { sessionId } = await s.ready;
      const holder = server.client.attach({ sessionId });
      // It reads nothing: its call, paused here, takes at most grpc-js's buffer (16 messages) and an
      // HTTP/2 window, far from the ≥ 32 chunks (of ≤ 512 KiB) of 16 MiB. (The pause holds because the
      // ExecSession's `data` listener has started the call's reads: a call paused before its first read
      // is not held back by grpc-js at all, docs/TOOLCHAIN.md.)
      // (An ExecSession left unread still takes 32 pieces into its own queue, enough to drain a whole
      // output of ~50 chunks and leave: the cause of this test's earlier failures under load.)
      holder.call.pause();
      await waitUntil('the holder to be attached', () => sessions.get(sessionId).clientCount === 2);
      const collected = s.collect();
      await s.write(Buffer.from('go\n'));
      const first = await collected;
      expect(first.exitCode).toBe(0);
      expect(first.stdout.length).toBe(16 * 1024 * 1024);
      await waitUntil('the starter to leave', () => sessions.get(sessionId).clientCount === 1);
      // A witness that finishes after it, with no client: once the sweeper has removed the witness, a
      // sweep has run past the held session's retention too.
      const witness = await finished(server, ['true']);
      await waitUntil('the witness removed by the sweeper', () => forgotten(server, witness.sessionId), 15_000);
      expect(forgotten(server, sessionId)).toBe(false);
      expect(sessions.get(sessionId).clientCount).toBe(1); // the premise: the holder is still attached
      expect(sessions.sweep(Date.now() + 3_600_000)).toBe(0); // even an hour on
      const check = await server.client.attach({ sessionId }).collect();
      expect(sha256(check.stdout)).toBe(sha256(first.stdout));
      expect(check.exitCode).toBe(0);
      holder.cancel();
      await waitUntil('the session to expire once the holder left', () => forgotten(server, sessionId), 15_000);
      const err = await attachError(server, sessionId);
      expect(err?.code).toBe(status.NOT_FOUND);
    });
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
