import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP front for the Docker engine's unix socket (point a service at it with
 * DOCKER_HOST=tcp://…), passing bytes unchanged, that can cut one container's attach stream after a
 * chosen number of body bytes: Docker's output stream then ends wherever the test wants, e.g. inside
 * a frame, while the engine and the container carry on; that can hold chosen requests back for a
 * while, as a slow or busy engine would; and that can answer chosen requests with an error status of
 * its own, as a failing engine does (a 500 with Docker's JSON body).
 */
export class DockerSocketProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private cut?: { afterBodyBytes: number; done: (containerId: string) => void };
  private delays: Array<{ requestLine: RegExp; ms: number }> = [];
  private failures: Array<{ requestLine: RegExp; status: number; message: string }> = [];
  host = '';

  constructor(private readonly socketPath = '/var/run/docker.sock') {
    this.server = createServer((client) => this.onConnection(client));
  }

  listen(): Promise<string> {
    return new Promise((resolve) =>
      this.server.listen(0, '127.0.0.1', () => {
        this.host = `tcp://127.0.0.1:${(this.server.address() as { port: number }).port}`;
        resolve(this.host);
      }),
    );
  }

  /**
   * The next container attach stream opened from now on is cut, both ways, once `afterBodyBytes`
   * bytes of its body (after the HTTP response head) have been passed on. Resolves with the
   * container's id when the cut was made.
   */
  cutNextAttach(afterBodyBytes: number): Promise<string> {
    return new Promise((done) => (this.cut = { afterBodyBytes, done }));
  }

  /** Requests whose request line (e.g. `GET /v1.41/containers/<id>/json`) matches are passed on only after `ms`. */
  delay(requestLine: RegExp, ms: number): void {
    this.delays.push({ requestLine, ms });
  }

  /** Requests whose request line matches are answered `status` with Docker's error body `{"message"}`, and not passed on. */
  fail(requestLine: RegExp, status: number, message: string): void {
    this.failures.push({ requestLine, status, message });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }

  private onConnection(client: Socket): void {
    const upstream = connect(this.socketPath);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    let rule: DockerSocketProxy['cut'];
    let containerId = '';
    // Bytes from the client go on in order; a delayed request holds back what follows it on its connection.
    let held = Promise.resolve();
    client.on('data', (b: Buffer) => {
      // Connections are kept alive and reused: each request starts a write of its own (no pipelining).
      const start = b.toString('latin1', 0, 200);
      const line = /^POST \S*\/containers\/([0-9a-f]+)\/attach\b/.exec(start);
      if (line && this.cut && !rule) {
        rule = this.cut;
        containerId = line[1];
        this.cut = undefined;
      }
      const failure = this.failures.find((f) => f.requestLine.test(start.split('\r\n')[0]));
      if (failure) {
        const body = JSON.stringify({ message: failure.message });
        const head = `HTTP/1.1 ${failure.status} Engine Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
        client.end(head + body);
        return;
      }
      const ms = this.delays.find((d) => d.requestLine.test(start.split('\r\n')[0]))?.ms;
      if (ms) held = held.then(() => new Promise((r) => setTimeout(r, ms)));
      held = held.then(() => void upstream.write(b));
    });
    let head = Buffer.alloc(0);
    let bodySent = -1; // -1 while the response head is still coming
    upstream.on('data', (b: Buffer) => {
      if (!rule) return void client.write(b);
      if (bodySent < 0) {
        head = Buffer.concat([head, b]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        client.write(head.subarray(0, end + 4));
        b = head.subarray(end + 4);
        bodySent = 0;
      }
      const room = rule.afterBodyBytes - bodySent;
      if (b.length < room) {
        bodySent += b.length;
        return void client.write(b);
      }
      const r = rule;
      rule = undefined;
      client.write(b.subarray(0, room), () => {
        client.destroy();
        upstream.destroy();
        r.done(containerId);
      });
    });
  }
}
