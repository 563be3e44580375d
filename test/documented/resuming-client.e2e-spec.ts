// docs/DURABILITY.md, ResumingSession: no retry before the first Ready, every status but UNAVAILABLE
// is final, it gives up after its window, and stdin typed into a dropped call is not re-sent.
import { status, type ServiceError } from '@grpc/grpc-js';
import { ExecClient, GRPCConnectionManager, ResumingSession, type ExecSession } from '@exec-stream/client';
import { BASE_IMAGE, freePort, startTestServer, type TestServer } from '../support/server';
import { grpcError } from '../support/helpers';
import { backgroundReader, waitUntil } from '../support/conditions';
import { TcpProxy } from '../support/tcp-proxy';

let server: TestServer;
beforeAll(async () => (server = await startTestServer()));
afterAll(() => server?.close());

const FAST_RECONNECT = { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 200 };

/** A client whose connection goes through a proxy that the test can cut or close. */
async function throughProxy() {
  const proxy = new TcpProxy({ host: '127.0.0.1', port: Number(server.address.split(':')[1]) });
  const conn = new GRPCConnectionManager({ address: await proxy.listen(), channelOptions: FAST_RECONNECT });
  return { proxy, conn, client: new ExecClient(conn) };
}

it('a failure before the first Ready is not retried (a run is never started twice)', async () => {
  const conn = new GRPCConnectionManager({ address: `127.0.0.1:${await freePort()}`, channelOptions: FAST_RECONNECT });
  const attempts: number[] = [];
  try {
    const s = ResumingSession.run(new ExecClient(conn), BASE_IMAGE, {
      command: ['true'],
      reconnectWindowMs: 5_000,
      onReconnect: (i) => attempts.push(i.attempt),
    });
    const err = await grpcError(s.wait());
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(attempts).toEqual([]);
  } finally {
    conn.close();
  }
});

it('a status other than UNAVAILABLE is final: NOT_FOUND reaches the caller with no reconnect', async () => {
  const attempts: number[] = [];
  const s = ResumingSession.attach(server.client, { sessionId: 'no-such-session' }, { reconnectWindowMs: 5_000, onReconnect: (i) => attempts.push(i.attempt) });
  const err = await grpcError(s.wait());
  expect(err.code).toBe(status.NOT_FOUND);
  expect(attempts).toEqual([]);
});

it('gives up once its window has passed with the service unreachable, with the last error', async () => {
  const { proxy, conn, client } = await throughProxy();
  const attempts: number[] = [];
  try {
    const s = ResumingSession.run(client, BASE_IMAGE, {
      command: ['sh', '-c', 'echo one; exec sleep 300'],
      reconnectWindowMs: 1_500,
      onReconnect: (i) => attempts.push(i.attempt),
    });
    const { containerId } = await s.ready;
    const out = backgroundReader(s.output());
    await out.until('one\n');
    await proxy.close(); // cut, and nothing listens there any more
    const err = (await out.done.then(
      () => undefined,
      (e) => e,
    )) as ServiceError;
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(err.message).toContain('gave up reconnecting');
    expect(attempts.length).toBeGreaterThan(1);
    await expect(s.exit).rejects.toBe(err);
    // The process was never touched: it still runs (output goes on for clients that can reach it).
    expect((await server.client.attach({ containerId }).ready).containerId).toBe(containerId);
  } finally {
    conn.close();
  }
});

it('stdin written into a dropped call is not re-sent after the resume', async () => {
  const { proxy, conn, client } = await throughProxy();
  try {
    const s = ResumingSession.run(client, BASE_IMAGE, { command: ['cat'], openStdin: true, clientId: 'typist' });
    const { sessionId } = await s.ready;
    // ResumingSession has no stdin API ("not for stdin"): write through the call underneath it.
    const underlying = (s as unknown as { current: ExecSession }).current;
    const out = backgroundReader(s.output());
    await underlying.write(Buffer.from('one\n'));
    await out.until('one\n');
    proxy.cutAll();
    await waitUntil('the resume', () => s.reconnects === 1);
    // The typist comes back on its own call and finishes the input.
    const typist = server.client.attach({ sessionId, clientId: 'typist' });
    await typist.ready;
    await typist.write(Buffer.from('two\n'));
    typist.closeStdin();
    expect(await typist.wait()).toBe(0);
    await out.done;
    expect(out.text()).toBe('one\ntwo\n');
    expect(await s.exit).toBe(0);
  } finally {
    conn.close();
    await proxy.close();
  }
});
