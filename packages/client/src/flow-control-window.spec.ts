import { createServer, type Http2Session, type Settings } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { CLIENT_FLOW_CONTROL_WINDOW, GRPCConnectionManager } from './grpc-connection-manager';

// A real grpc-js channel against a real HTTP/2 server on loopback: what the client's SETTINGS say.
it('the client advertises a 4 MiB HTTP/2 receive window (bulk output needs fewer window updates)', async () => {
  const server = createServer();
  const sessions: Http2Session[] = [];
  const settings = new Promise<Settings>((resolve) =>
    server.on('session', (s) => {
      sessions.push(s);
      s.once('remoteSettings', resolve);
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const conn = new GRPCConnectionManager({ address: `127.0.0.1:${(server.address() as AddressInfo).port}` });
  try {
    conn.getClient().waitForReady(Date.now() + 10_000, () => undefined);
    expect((await settings).initialWindowSize).toBe(CLIENT_FLOW_CONTROL_WINDOW);
    expect(CLIENT_FLOW_CONTROL_WINDOW).toBe(4 * 1024 * 1024);
  } finally {
    conn.close();
    for (const s of sessions) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});
