import { status } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';
import { grpcError, sha256 } from './support/helpers';
import { backgroundReader, waitUntil } from './support/conditions';
import { ControlClient } from '@exec-stream/client';
import { TcpProxy } from './support/tcp-proxy';
import { ExecClient, GRPCConnectionManager, type ExecSession } from '@exec-stream/client';

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
    // The process reads nothing until told (USR1); the client tries to push 16 MiB meanwhile: twice the
    // bound below, which is itself several times what the gRPC windows, socket and pipe buffers hold.
    const s = server.client.run(BASE_IMAGE, {
      command: ['sh', '-c', 'trap "go=1" USR1; while [ -z "$go" ]; do usleep 20000; done; cat | sha256sum | cut -d" " -f1'],
      openStdin: true,
    });
    const { containerId } = await s.ready;
    const out = text(s);
    const input = randomBytes(16 * 1024 * 1024);
    let accepted = 0;
    const sending = (async () => {
      for (let off = 0; off < input.length; off += 64 * 1024) {
        await s.write(input.subarray(off, off + 64 * 1024));
        accepted = off + 64 * 1024;
      }
      s.closeStdin();
    })();
    // While the process reads nothing, what the client can push is bounded by gRPC windows, socket and
    // pipe buffers (a few MiB): its writes stop being taken. Held back means writes were taken, then none
    // for 500 ms, over at least 20 turns of this process's event loop (each lets the writes' callbacks
    // run), so that a pause of the loop itself is not taken for it. A service that buffered stdin for the
    // process takes all 16 MiB, then nothing more: that too ends the wait, and fails the bound.
    let seen = -1;
    let since = 0;
    let turns = 0;
    await waitUntil(
      'the sender to be held back (no write taken for 500 ms)',
      () => {
        if (accepted !== seen) [seen, since, turns] = [accepted, Date.now(), 0];
        return seen > 0 && ++turns >= 20 && Date.now() - since >= 500;
      },
      30_000,
    );
    expect(accepted).toBeLessThan(8 * 1024 * 1024);
    await new ControlClient(server.connection).signal(containerId, 'USR1');
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

/** Collects a session's stdout as it arrives, so a test can wait until the process echoed N bytes. */
function echoCollector(s: ExecSession): { bytes: () => number; done: Promise<Buffer> } {
  const parts: Buffer[] = [];
  let n = 0;
  const done = (async () => {
    for await (const p of s.output()) {
      parts.push(p.data);
      n += p.data.length;
    }
    return Buffer.concat(parts);
  })();
  return { bytes: () => n, done };
}

const until = (what: string, cond: () => boolean) => waitUntil(what, cond);

describe('stdin resume (the starter leaves without a half-close)', () => {
  /** Starts cat with a client_id, writes part one, and waits until cat echoed it to an observer. */
  async function startCat(client: ExecClient, clientId: string, first: Buffer) {
    const starter = client.run(BASE_IMAGE, { command: ['cat'], openStdin: true, clientId });
    const { sessionId } = await starter.ready;
    const starterDone = starter.wait().catch(() => undefined);
    const observer = server.client.attach({ sessionId });
    await observer.ready;
    const seen = echoCollector(observer);
    await starter.write(first);
    await until("cat to echo the starter's bytes", () => seen.bytes() >= first.length);
    return { starter, starterDone, sessionId, observer, seen };
  }

  async function resumeAndFinish(sessionId: string, clientId: string, first: Buffer, seen: { done: Promise<Buffer> }, observer: ExecSession) {
    // A stranger may not write, even while the writer is away; the session goes on.
    const stranger = server.client.attach({ sessionId, clientId: 'someone-else' });
    await stranger.ready;
    await stranger.write(Buffer.from('intruder\n'));
    expect((await grpcError(stranger.wait())).code).toBe(status.PERMISSION_DENIED);

    const second = randomBytes(300 * 1024);
    const resumed = server.client.attach({ sessionId, clientId });
    await resumed.ready;
    const resumedOut = resumed.collect();
    for (let off = 0; off < second.length; off += 64 * 1024) await resumed.write(second.subarray(off, off + 64 * 1024));
    resumed.closeStdin();
    const all = Buffer.concat([first, second]);
    const r = await resumedOut;
    expect(r.exitCode).toBe(0);
    expect(sha256(r.stdout)).toBe(sha256(all));
    expect(sha256(await seen.done)).toBe(sha256(all));
    expect(await observer.exit).toBe(0);
  }

  it('after a cancel, an attach with the same client_id writes more and closes it; byte-exact, exit 0', async () => {
    const first = randomBytes(200 * 1024);
    const { starter, starterDone, sessionId, observer, seen } = await startCat(server.client, 'resume-cancel', first);
    starter.cancel();
    await starterDone;
    await resumeAndFinish(sessionId, 'resume-cancel', first, seen, observer);
  });

  it('after a dropped connection, an attach with the same client_id writes more and closes it', async () => {
    const proxy = new TcpProxy({ host: '127.0.0.1', port: Number(server.address.split(':')[1]) });
    const connection = new GRPCConnectionManager({ address: await proxy.listen() });
    try {
      const first = randomBytes(100 * 1024);
      const { starterDone, sessionId, observer, seen } = await startCat(new ExecClient(connection), 'resume-drop', first);
      proxy.cutAll();
      await starterDone;
      await resumeAndFinish(sessionId, 'resume-drop', first, seen, observer);
    } finally {
      connection.close();
      await proxy.close();
    }
  });

  it('a starter without a client_id that leaves is EOF: nobody could ever write again', async () => {
    const starter = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'cat; echo eof-seen'], openStdin: true });
    const { sessionId } = await starter.ready;
    const observer = server.client.attach({ sessionId });
    await observer.ready;
    const seen = echoCollector(observer);
    await starter.write(Buffer.from('hi\n'));
    await until('cat to echo', () => seen.bytes() >= 3);
    starter.cancel();
    expect((await seen.done).toString()).toBe('hi\neof-seen\n');
    expect(await observer.exit).toBe(0);
  }); // bounded by the file's timeout: without the EOF cat would wait for ever
});

describe('tty', () => {
  it('gives one raw stream and reports the terminal size in Ready', async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo out; echo err >&2'], tty: true });
    const ready = await s.ready;
    expect(ready.terminalSize).toEqual({ width: 80, height: 24 });
    const streams = new Set<string>();
    let text = '';
    for await (const p of s.output()) {
      streams.add(p.stream);
      text += p.data.toString();
    }
    // One stream, whatever pieces the terminal's reads cut it into ("out\r\nerr" then "\r\n" in one run).
    expect({ streams: [...streams], text }).toEqual({ streams: ['stdout'], text: 'out\r\nerr\r\n' });
    expect(await s.exit).toBe(0);
  });

  it('a resize reaches the terminal (stty size), the latest of a burst wins', async () => {
    // Docker 20.10 (API 1.41) sizes a tty only just after start: the process waits for a size, prints
    // it, then prints each size it sees change, until the burst's last one.
    const s = server.client.run(BASE_IMAGE, {
      command: [
        'sh',
        '-c',
        'until l=$(stty size 2>/dev/null) && [ "$l" != "0 0" ]; do usleep 10000; done; echo "$l"; while [ "$l" != "43 132" ]; do usleep 10000; n=$(stty size 2>/dev/null) || continue; [ "$n" != "$l" ] && echo "$n"; l=$n; done',
      ],
      tty: true,
    });
    await s.ready;
    const out = backgroundReader(s.output());
    await out.until('24 80');
    s.resize(100, 30);
    s.resize(120, 40);
    s.resize(132, 43);
    await out.done;
    const sizes = out.text().replace(/\r/g, '').trim().split('\n');
    expect(sizes[0]).toBe('24 80');
    expect(sizes.at(-1)).toBe('43 132'); // the latest wins (sizes between, if a burst was split, come in order)
    expect(sizes.slice(1)).toEqual(['30 100', '40 120', '43 132'].filter((x) => sizes.includes(x)));
  });

  /**
   * The tty session the refused sizes go to, started once: each case resizes it from an attach with its
   * client_id, a writer as its starter is (the same check of the size), and the refusal ends that call
   * alone: the session goes on for the next case.
   */
  let sizing: Promise<string> | undefined;
  const sizingSession = () =>
    (sizing ??= server.client.run(BASE_IMAGE, { command: ['sleep', '600'], tty: true, clientId: 'sizes' }).ready.then((r) => r.sessionId));

  // Resize.Width / Height are int32 in proto/exec.proto, so our client can send negatives as they are.
  it.each([
    [0, 24],
    [80, 0],
    [-1, 24],
    [80, -5],
    [-2147483648, -2147483648],
    [10001, 24],
    [80, 10001],
  ])('zero, negative or over 10000 sizes → INVALID_ARGUMENT (%i x %i)', async (width, height) => {
    const s = server.client.attach({ sessionId: await sizingSession(), clientId: 'sizes' });
    await s.ready;
    s.resize(width, height);
    const err = await grpcError(s.wait());
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toContain(`terminal size ${width}x${height}`);
  });

  it('10000 x 10000, the largest size, is taken; a resize from a client that is not the writer → PERMISSION_DENIED', async () => {
    const owner = server.client.run(BASE_IMAGE, {
      command: ['sh', '-c', 'until [ "$(stty size)" = "10000 10000" ]; do usleep 10000; done; echo big-ok'],
      tty: true,
      openStdin: true,
      clientId: 'resize-owner',
    });
    const { sessionId } = await owner.ready;
    const out = backgroundReader(owner.output());
    const stranger = server.client.attach({ sessionId });
    await stranger.ready;
    stranger.resize(100, 30);
    const err = await grpcError(stranger.wait());
    expect({ code: err.code, details: err.details }).toEqual({ code: status.PERMISSION_DENIED, details: expect.stringMatching(/resize|writer/) });
    owner.resize(10000, 10000);
    await out.done;
    expect(out.text()).toMatch(/big-ok/);
    expect(await owner.exit).toBe(0);
  });

  it('resize on a session without a tty → FAILED_PRECONDITION', async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['sleep', '5'], openStdin: true });
    await s.ready;
    s.resize(100, 30);
    expect((await grpcError(s.wait())).code).toBe(status.FAILED_PRECONDITION);
  });
});
