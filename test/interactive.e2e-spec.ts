import { status } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';
import { grpcError, sha256, sleep } from './support/helpers';
import type { ExecSession } from '../src/common/client';

let server: TestServer;
beforeAll(async () => (server = await startTestServer()));
afterAll(() => server?.close());

async function text(s: ExecSession): Promise<string> {
  let out = '';
  for await (const p of s.output()) out += p.data.toString('latin1');
  return out;
}

describe('stdin', () => {
  it('cat round-trips 10 MB byte-exact and exits 0 after EOF', async () => {
    const input = randomBytes(10 * 1024 * 1024);
    const s = server.client.run(BASE_IMAGE, { command: ['cat'], openStdin: true });
    await s.ready;
    const collected = s.collect();
    for (let off = 0; off < input.length; off += 256 * 1024) await s.write(input.subarray(off, off + 256 * 1024));
    s.closeStdin();
    const r = await collected;
    expect(r.exitCode).toBe(0);
    expect(r.stdout.length).toBe(input.length);
    expect(sha256(r.stdout)).toBe(sha256(input));
  });

  it('an empty stdin message is EOF, and output continues after it', async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'cat; echo after-eof; sleep 0.2; echo still-here'], openStdin: true });
    await s.ready;
    const out = text(s);
    await s.write(Buffer.from('line\n'));
    await s.write(Buffer.alloc(0));
    expect(await out).toBe('line\nafter-eof\nstill-here\n');
    expect(await s.exit).toBe(0);
  });

  it('a sender faster than the process is held back by flow control, then everything arrives', async () => {
    // The process reads nothing for 3 s; the client tries to push 64 MB meanwhile.
    const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'sleep 3; cat | sha256sum | cut -d" " -f1'], openStdin: true });
    await s.ready;
    const out = text(s);
    const input = randomBytes(64 * 1024 * 1024);
    let accepted = 0;
    const sending = (async () => {
      for (let off = 0; off < input.length; off += 64 * 1024) {
        await s.write(input.subarray(off, off + 64 * 1024));
        accepted = off + 64 * 1024;
      }
      s.closeStdin();
    })();
    await sleep(2000);
    // Bounded by gRPC windows, socket and pipe buffers: nowhere near the 64 MB offered.
    expect(accepted).toBeLessThan(24 * 1024 * 1024);
    await sending;
    expect((await out).trim()).toBe(sha256(input));
    expect(await s.exit).toBe(0);
  });

  it('exec sessions take stdin too', async () => {
    const main = server.client.run(BASE_IMAGE, { command: ['sleep', '60'] });
    const { containerId } = await main.ready;
    const e = server.client.exec(containerId, { command: ['sh', '-c', 'tr a-z A-Z'], openStdin: true });
    await e.ready;
    const out = e.collect();
    await e.write(Buffer.from('hello exec\n'));
    e.closeStdin();
    expect((await out).stdout.toString()).toBe('HELLO EXEC\n');
    main.cancel();
  });

  it('stdin without open_stdin → FAILED_PRECONDITION', async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['sleep', '5'] });
    await s.ready;
    await s.write(Buffer.from('x'));
    expect((await grpcError(s.wait())).code).toBe(status.FAILED_PRECONDITION);
  });

  it('a stdin message over 1 MiB → INVALID_ARGUMENT', async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['cat'], openStdin: true });
    await s.ready;
    await s.write(Buffer.alloc(1024 * 1024 + 1));
    const err = await grpcError(s.wait());
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toContain('1048576');
  });

  it('only the starting client writes stdin; an attach with its client_id may take over', async () => {
    const owner = server.client.run(BASE_IMAGE, { command: ['cat'], openStdin: true, clientId: 'owner-1' });
    const { sessionId } = await owner.ready;
    const ownerOut = text(owner);
    const stranger = server.client.attach({ sessionId });
    await stranger.ready;
    await stranger.write(Buffer.from('not allowed\n'));
    expect((await grpcError(stranger.wait())).code).toBe(status.PERMISSION_DENIED);
    await owner.write(Buffer.from('from owner\n'));
    const resumed = server.client.attach({ sessionId, clientId: 'owner-1' });
    await resumed.ready;
    const resumedOut = text(resumed);
    await resumed.write(Buffer.from('from resumed\n'));
    resumed.closeStdin();
    expect(await ownerOut).toBe('from owner\nfrom resumed\n');
    expect(await resumedOut).toBe('from owner\nfrom resumed\n');
    expect(await owner.exit).toBe(0);
  });
});

describe('tty', () => {
  it('gives one raw stream and reports the terminal size in Ready', async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo out; echo err >&2'], tty: true });
    const ready = await s.ready;
    expect(ready.terminalSize).toEqual({ width: 80, height: 24 });
    const pieces: string[] = [];
    for await (const p of s.output()) pieces.push(`${p.stream}:${p.data.toString()}`);
    expect(pieces.join('')).toMatch(/^stdout:out\r\n(stdout:)?err\r\n$/);
    expect(await s.exit).toBe(0);
  });

  it('a resize reaches the terminal (stty size), the latest of a burst wins', async () => {
    // The short sleep: Docker 20.10 (API 1.41) cannot size a tty before start, only just after.
    const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'sleep 0.2; stty size; sleep 1.5; stty size'], tty: true });
    await s.ready;
    const out = text(s);
    await sleep(500);
    s.resize(100, 30);
    s.resize(120, 40);
    s.resize(132, 43);
    expect((await out).replace(/\r/g, '')).toBe('24 80\n43 132\n');
  });

  it('zero or negative sizes → INVALID_ARGUMENT', async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['sleep', '5'], tty: true });
    await s.ready;
    s.resize(0, 24);
    expect((await grpcError(s.wait())).code).toBe(status.INVALID_ARGUMENT);
  });

  it('resize on a session without a tty → FAILED_PRECONDITION', async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['sleep', '5'], openStdin: true });
    await s.ready;
    s.resize(100, 30);
    expect((await grpcError(s.wait())).code).toBe(status.FAILED_PRECONDITION);
  });
});
