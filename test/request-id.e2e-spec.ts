import { status as Code } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { GRPCConnectionManager } from '@exec-stream/client';
import type { Start } from '@exec-stream/client/wire';
import { SessionManager } from '../src/exec/session';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';
import { waitUntil } from './support/conditions';
import { docker } from './support/helpers';
import { rawSession } from './support/raw-session';
import { TcpProxy } from './support/tcp-proxy';

jest.setTimeout(60_000);

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

/** Containers (any state) carrying the test's own label. */
const containersLabelled = (value: string) => docker('ps', '-aq', '--filter', `label=rid-test=${value}`).split('\n').filter(Boolean);
/** Prints a random token once, then waits for a line on stdin. */
const TOKEN_THEN_READ = ['sh', '-c', 'echo token-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d " \\n"); read line; echo got $line'];
const stdoutOf = (r: Awaited<ReturnType<typeof rawSession>>) =>
  r.messages
    .map((m) => m.stdout ?? m.output_chunk?.stdout ?? Buffer.alloc(0))
    .map((b) => b.toString())
    .join('');

describe('Start.request_id', () => {
  it('a Start whose connection is cut before Ready, retried, attaches to the one process it started', async () => {
    const tag = randomUUID();
    const start: Start = {
      image: BASE_IMAGE,
      command: TOKEN_THEN_READ,
      open_stdin: true,
      client_id: 'rid-client',
      request_id: `job-${tag}`,
      labels: { 'rid-test': tag },
    };
    const proxy = new TcpProxy({ host: '127.0.0.1', port: Number(server.address.split(':')[1]) });
    const cut = new GRPCConnectionManager({ address: await proxy.listen() });
    let firstId: string;
    try {
      const call = cut.getClient().Session(cut.getMetadata());
      call.on('error', () => undefined);
      call.write({ start });
      // The service has the Start (its session exists, usually still being set up); the connection goes before Ready is read.
      firstId = (
        await waitUntil('the session of the first Start', () =>
          server.app
            .get(SessionManager)
            .all()
            .find((s) => s.info.requestId === start.request_id),
        )
      ).id;
      expect(proxy.cutAll()).toBeGreaterThan(0);
    } finally {
      cut.close();
      await proxy.close();
    }

    // The retry, on a fresh connection: the same session, from its first byte, and it may write stdin.
    const retry = server.client.start(start);
    const ready = await retry.ready;
    expect(ready.sessionId).toBe(firstId);
    const first = server.app.get(SessionManager).get(firstId);
    await waitUntil('the retry to be attached', () => first.clientCount === 1);
    expect(containersLabelled(tag)).toEqual([first.containerId.slice(0, 12)]);
    await retry.write(Buffer.from('bye\n'));
    const { stdout, exitCode } = await retry.collect();
    expect(exitCode).toBe(0);
    const lines = stdout.toString().trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^token-[0-9a-f]{16}$/);
    expect(lines[1]).toBe('got bye');
    // Exactly one process ever ran: one session with this request_id, one container with the label.
    expect(
      server.app
        .get(SessionManager)
        .all()
        .filter((s) => s.info.requestId === start.request_id),
    ).toHaveLength(1);
  });

  it('two Starts with the same request_id at once share one process; each gets all of its output', async () => {
    const tag = randomUUID();
    const start: Start = { image: BASE_IMAGE, command: ['sh', '-c', 'echo token-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d " \\n")'], request_id: tag };
    const [a, b] = await Promise.all([rawSession(server.connection, start), rawSession(server.connection, start)]);
    expect(a.messages[0].ready!.session_id).toBe(b.messages[0].ready!.session_id);
    expect(stdoutOf(a)).toMatch(/^token-[0-9a-f]{16}\n$/);
    expect(stdoutOf(b)).toBe(stdoutOf(a));
    expect(a.messages.at(-1)!.exit).toBe(0);
    expect(b.messages.at(-1)!.exit).toBe(0);
  });

  it('the same request_id with a different Start is ALREADY_EXISTS; an oversized one or one on an attach is INVALID_ARGUMENT', async () => {
    const id = `dup-${randomUUID()}`;
    const first = await rawSession(server.connection, { image: BASE_IMAGE, command: ['true'], request_id: id });
    const sessionId = first.messages[0].ready!.session_id!;
    const other = await rawSession(server.connection, { image: BASE_IMAGE, command: ['false'], request_id: id });
    expect(other.error?.code).toBe(Code.ALREADY_EXISTS);
    expect(other.error?.details).toContain(sessionId);
    // Per-call fields (sequenced, client_id, replay_from_sequence) may differ in a retry.
    const again = await rawSession(server.connection, { image: BASE_IMAGE, command: ['true'], request_id: id, sequenced: true, client_id: 'x' });
    expect(again.messages[0].ready!.session_id).toBe(sessionId);

    const long = await rawSession(server.connection, { image: BASE_IMAGE, command: ['true'], request_id: 'r'.repeat(129) });
    expect(long.error?.code).toBe(Code.INVALID_ARGUMENT);
    expect(long.error?.details).toContain('request_id must be at most 128 bytes');
    for (const control of ['a\nb', 'tab\there', 'nul\0', 'del\x7f']) {
      const bad = await rawSession(server.connection, { image: BASE_IMAGE, command: ['true'], request_id: control });
      expect({ id: control, code: bad.error?.code, details: bad.error?.details }).toEqual({
        id: control,
        code: Code.INVALID_ARGUMENT,
        details: expect.stringContaining('request_id'),
      });
    }
    const attach = await rawSession(server.connection, { session_id: sessionId, request_id: id });
    expect(attach.error?.code).toBe(Code.INVALID_ARGUMENT);
    expect(attach.error?.details).toContain('request_id');
  });

  it('survives a restart: the retry gets the session it created, no second process', async () => {
    const first = await startTestServer();
    let second: TestServer | undefined;
    try {
      const start: Start = { image: BASE_IMAGE, command: ['sh', '-c', 'printf once; exit 6'], request_id: `restart-${randomUUID()}`, labels: { kept: 'yes' } };
      const before = await rawSession(first.connection, start);
      const sessionId = before.messages[0].ready!.session_id;
      first.connection.close();
      await first.app.close();
      second = await startTestServer({ EXEC_DATA_DIR: first.dataDir });
      const after = await rawSession(second.connection, start);
      expect(after.messages[0].ready!.session_id).toBe(sessionId);
      expect(stdoutOf(after)).toBe('once');
      expect(after.messages.at(-1)!.exit).toBe(6);
      const sessions = second.app.get(SessionManager).all();
      expect(sessions).toHaveLength(1);
      expect(sessions[0].info.labels).toEqual({ kept: 'yes' });
    } finally {
      await second?.close();
      rmSync(first.dataDir, { recursive: true, force: true });
    }
  });
});
