import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of the service, so that a test can cut every connection at a moment
 * it chooses: a real transient network failure for the client, while the service carries on.
 */
export class TcpProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private frozen = false;
  address = '';

  constructor(target: { host: string; port: number }) {
    this.server = createServer((client) => {
      const upstream = connect(target.port, target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      const pair = { client, upstream };
      this.pairs.add(pair);
      client.pipe(upstream);
      if (!this.frozen) upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => {
        this.pairs.delete(pair);
        client.destroy();
      });
    });
  }

  /**
   * Stops passing the service's bytes on to the clients, until thaw(): to the service, every client
   * behind the proxy reads nothing (its HTTP/2 window is never opened again), while its requests still go through.
   */
  freeze(): void {
    this.frozen = true;
    for (const { client, upstream } of this.pairs) {
      upstream.unpipe(client);
      upstream.pause();
    }
  }

  thaw(): void {
    this.frozen = false;
    for (const { client, upstream } of this.pairs) upstream.pipe(client);
  }

  listen(): Promise<string> {
    return new Promise((resolve) =>
      this.server.listen(0, '127.0.0.1', () => {
        this.address = `127.0.0.1:${(this.server.address() as { port: number }).port}`;
        resolve(this.address);
      }),
    );
  }

  /** Cuts every open connection (both sides), as a network failure would. */
  cutAll(): number {
    const n = this.sockets.size;
    for (const s of this.sockets) s.destroy();
    return n;
  }

  close(): Promise<void> {
    this.cutAll();
    return new Promise((r) => this.server.close(() => r()));
  }
}
