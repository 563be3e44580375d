import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A request the endpoint holds without ever answering. */
export interface HeldRequest {
  method: string;
  path: string;
  /** The service gave up on it (closed its connection). */
  closed: boolean;
}

/**
 * A real HTTP server on a unix socket in front of the real Docker engine (DOCKER_HOST=unix://…): it
 * passes every request, upgraded streams (attach, exec start) included, through to /var/run/docker.sock
 * unchanged, except those matching a rule set with hang(), which it holds for ever without an answer,
 * as a hung engine does. Not a mock of Docker: every answer the service gets is the engine's own.
 */
export class HangingDocker {
  private readonly server: Server;
  private readonly dir = mkdtempSync(join(tmpdir(), 'hanging-docker-'));
  private readonly sockets = new Set<Socket>();
  private rules: Array<{ method: string; path: RegExp }> = [];
  /** Requests passed through whose answer is still open (a stream such as GET /events), to cut() them. */
  private readonly open = new Set<{ method: string; path: string; destroy: () => void }>();
  /** The sockets of held requests, to release() them. */
  private readonly heldSockets = new Set<Socket>();
  readonly socketPath = join(this.dir, 'docker.sock');
  /** Every request the service made through this endpoint, held or not, oldest first (path without query or API version). */
  readonly requests: Array<{ method: string; path: string }> = [];
  /** Requests held so far, oldest first. */
  readonly held: HeldRequest[] = [];
  /** Ids of the containers Docker created through this endpoint. */
  readonly created: string[] = [];

  constructor(private readonly upstream = '/var/run/docker.sock') {
    this.server = createServer((req, res) => {
      if (this.hold(req)) return;
      const entry = { method: req.method ?? '', path: pathOf(req), destroy: () => req.socket.destroy() };
      this.open.add(entry);
      res.on('close', () => this.open.delete(entry));
      const up = request({ socketPath: this.upstream, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        res.flushHeaders(); // a wait is registered when its headers arrive: pass them on at once
        if (req.method === 'POST' && /^\/(v[\d.]+\/)?containers\/create\b/.test(req.url ?? '')) this.recordCreated(upRes);
        upRes.pipe(res);
        // The engine dropped the answer midway (it stopped): so does this endpoint.
        upRes.on('close', () => upRes.complete || res.destroy());
      });
      up.on('error', () => res.destroy());
      res.on('close', () => up.destroy());
      req.pipe(up);
    });
    this.server.on('connection', (s: Socket) => this.track(s));
    this.server.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => {
      if (this.hold(req)) return;
      const up = this.track(connect(this.upstream));
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      up.write(head);
      client.pipe(up);
      up.pipe(client);
      client.on('close', () => up.destroy());
      up.on('close', () => client.destroy());
    });
  }

  /** The endpoint's DOCKER_HOST. */
  get dockerHost(): string {
    return `unix://${this.socketPath}`;
  }

  listen(): Promise<string> {
    return new Promise((resolve) => this.server.listen(this.socketPath, () => resolve(this.dockerHost)));
  }

  /** From now on, requests with this method whose path (without query or API version) matches are never answered. */
  hang(method: string, path: RegExp): void {
    this.rules.push({ method, path });
  }

  /** Answers new requests normally again (those already held stay held). */
  answerAll(): void {
    this.rules = [];
  }

  /** Cuts the connections of requests passed through and still open (e.g. the events stream) that match. */
  cut(method: string, path: RegExp): number {
    let n = 0;
    for (const e of [...this.open]) {
      if (e.method !== method || !path.test(e.path)) continue;
      e.destroy();
      n++;
    }
    return n;
  }

  /** Drops the connections of the requests held so far, as an engine that went away would (the caller sees an error). */
  release(): void {
    for (const s of this.heldSockets) s.destroy();
    this.heldSockets.clear();
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) =>
      this.server.close(() => {
        rmSync(this.dir, { recursive: true, force: true });
        r();
      }),
    );
  }

  private hold(req: IncomingMessage): boolean {
    const path = pathOf(req);
    this.requests.push({ method: req.method ?? '', path });
    if (!this.rules.some((r) => r.method === req.method && r.path.test(path))) return false;
    const held: HeldRequest = { method: req.method ?? '', path, closed: false };
    this.held.push(held);
    this.heldSockets.add(req.socket);
    req.socket.on('close', () => (held.closed = true));
    return true;
  }

  private recordCreated(res: IncomingMessage): void {
    const parts: Buffer[] = [];
    res.on('data', (b: Buffer) => parts.push(b));
    res.on('end', () => {
      try {
        const id = (JSON.parse(Buffer.concat(parts).toString('utf8')) as { Id?: string }).Id;
        if (id) this.created.push(id);
      } catch {
        /* not a creation */
      }
    });
  }

  private track(s: Socket): Socket {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => s.destroy());
    return s;
  }
}

/** A request's path without its query and API version prefix (`/containers/abc/json`). */
function pathOf(req: IncomingMessage): string {
  return (req.url ?? '').split('?')[0].replace(/^\/v[\d.]+/, '');
}
