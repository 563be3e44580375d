import { status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { ExecClient, GRPCConnectionManager, ResumingSession, type OutputPiece } from '@exec-stream/client';
import { DRAIN_MESSAGE, SessionDrain } from '../src/exec/session';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';
import { TcpProxy } from './support/tcp-proxy';
import { backgroundReader, waitUntil } from './support/conditions';
import { GO, GO_DONE } from './support/cues';

jest.setTimeout(60_000);

/**
 * 16 MiB: ten cuts ~1 MiB apart, at least 32 chunks of the 512 KiB largest, and four times the 4 MiB tail
 * kept in memory, so that a resume replays from disk as well as from memory.
 */
const SIZE = 16 * 1024 * 1024;
const RANDOM = `head -c ${SIZE} /dev/urandom > /tmp/d && cat /tmp/d && sha256sum /tmp/d | cut -d' ' -f1 >&2`;
/** SIZE random bytes on stdout, and the container's own sha256 of them on stderr. */
const RANDOM_OUTPUT = ['sh', '-c', RANDOM];
/** The same, then the process waits until /tmp/go exists: its call stays open until the test lets it end. */
const RANDOM_OUTPUT_THEN_WAIT = ['sh', '-c', `${RANDOM} && until ${GO_DONE}; do usleep 10000; done`];
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Ten cut points in the first 70 % of the stream: the call is still open at each (exit not yet sent). */
function cutPoints(size: number): number[] {
  const s = new Set<number>();
  while (s.size < 10) s.add(1 + Math.floor(Math.random() * (size * 0.7)));
  return [...s].sort((a, b) => a - b);
}

let server: TestServer;
beforeAll(async () => (server = await startTestServer()));
afterAll(() => server?.close());

interface Raw {
  messages: Array<Record<string, any>>;
  error?: ServiceError;
}
/** A raw Session call: every message as sent, for checks the client library would hide (Ready twice). */
function rawCall(start: Record<string, unknown>): Promise<Raw> {
  return openRawCall(start).ended;
}

/** rawCall, with the messages so far readable while the call goes on. */
function openRawCall(start: Record<string, unknown>): { so: Raw; ended: Promise<Raw> } {
  const client = server.connection.getClient();
  const call = (client.Session as (md: unknown) => ClientDuplexStream<object, Record<string, any>>).call(client, server.connection.getMetadata());
  const out: Raw = { messages: [] };
  const ended = new Promise<Raw>((resolve) => {
    call.on('data', (m) => out.messages.push(m));
    call.on('error', (e: ServiceError) => {
      out.error = e;
      resolve(out);
    });
    call.on('end', () => resolve(out));
    call.write({ start });
  });
  return { so: out, ended };
}

it('a client dropped at 10 random points of a 16 MiB stream resumes with replay_from_sequence = last + 1: sha256 equal', async () => {
  const first = server.client.run(BASE_IMAGE, { command: RANDOM_OUTPUT, sequenced: true });
  const { sessionId } = await first.ready;
  const cuts = cutPoints(SIZE);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let bytes = 0;
  let last = 0;
  let current = first;
  let exitCode: number | undefined;
  for (;;) {
    let cut = false;
    for await (const p of current.output()) {
      expect(p.sequence).toBe(last + 1); // no hole, no repeat, across every reconnect
      expect(p.gapBefore).toBe(0);
      last = p.sequence!;
      (p.stream === 'stdout' ? out : err).push(p.data);
      if (p.stream === 'stdout') bytes += p.data.length;
      if (cuts.length && bytes >= cuts[0]) {
        while (cuts.length && bytes >= cuts[0]) cuts.shift();
        current.cancel();
        cut = true;
        break;
      }
    }
    if (!cut) {
      exitCode = await current.exit;
      break;
    }
    current = server.client.attach({ sessionId, fromSequence: last + 1, sequenced: true });
  }
  const data = Buffer.concat(out);
  expect(data.length).toBe(SIZE);
  expect(sha256(data)).toBe(Buffer.concat(err).toString().trim());
  expect(exitCode).toBe(0);
});

it('ResumingSession carries its caller across 10 network cuts in a 16 MiB stream without a seam', async () => {
  const proxy = new TcpProxy({ host: '127.0.0.1', port: Number(server.address.split(':')[1]) });
  const address = await proxy.listen();
  const connection = new GRPCConnectionManager({
    address,
    channelOptions: { 'grpc.initial_reconnect_backoff_ms': 50, 'grpc.max_reconnect_backoff_ms': 200 },
  });
  try {
    const s = ResumingSession.run(new ExecClient(connection), BASE_IMAGE, { command: RANDOM_OUTPUT_THEN_WAIT });
    const { containerId } = await s.ready;
    const cuts = cutPoints(SIZE);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let bytes = 0;
    let prev = 0;
    let failure: Error | undefined;
    const reading = (async () => {
      for await (const p of s.output()) {
        expect(p.sequence).toBe(prev + 1);
        prev = p.sequence!;
        (p.stream === 'stdout' ? out : err).push(p.data);
        if (p.stream === 'stdout') bytes += p.data.length;
      }
    })().catch((e: Error) => {
      failure = e;
    });
    const read = (n: number) => {
      if (failure) throw failure;
      return bytes >= n;
    };
    // Each cut once the client has read up to its point and is connected again after the cut before
    // (the process waits at its end, so its call is open at every cut): every cut lands, and costs one reconnect.
    for (let landed = 0; landed < cuts.length; landed++) {
      await waitUntil(`${cuts[landed]} bytes read and reconnect ${landed} made`, () => read(cuts[landed]) && s.reconnects === landed && proxy.open > 0, 30_000);
      proxy.cutAll();
    }
    await waitUntil('the reconnect after the last cut', () => s.reconnects === cuts.length, 30_000);
    expect(await server.client.exec(containerId, { command: GO }).wait()).toBe(0);
    await reading;
    expect(failure).toBeUndefined();
    const data = Buffer.concat(out);
    expect(data.length).toBe(SIZE);
    expect(sha256(data)).toBe(Buffer.concat(err).toString().trim());
    expect(await s.exit).toBe(0);
    expect(s.reconnects).toBe(cuts.length);
  } finally {
    connection.close();
    await proxy.close();
  }
});

describe('replay', () => {
  let sessionId: string;
  let containerId: string;
  let all: OutputPiece[];

  beforeAll(async () => {
    // Each round's two lines are chunks of their own: the next round waits for a line on stdin, sent once
    // this client has its stderr line (a pause would leave the count to the machine's pace).
    const s = server.client.run(BASE_IMAGE, {
      command: ['sh', '-c', 'i=1; while [ $i -le 30 ]; do echo "out $i"; echo "err $i" >&2; read -r _; i=$((i+1)); done; exit 3'],
      sequenced: true,
      openStdin: true,
    });
    ({ sessionId, containerId } = await s.ready);
    all = [];
    for await (const p of s.output()) {
      all.push(p);
      if (p.stream === 'stderr') await s.write(Buffer.from('\n'));
    }
    expect(await s.exit).toBe(3);
    expect(all.length).toBeGreaterThan(20);
  });

  const text = (ps: Array<{ data: Buffer }>) => Buffer.concat(ps.map((p) => p.data)).toString();

  it.each([0, 1, 2, 17, -1, -2])(
    'from N (%i; negative = from the end) replays exactly chunks N.., marked is_replay, then Ready{replay_complete}',
    async (n) => {
      const last = all.length;
      const from = n < 0 ? last + 2 + n : n; // -1 → last + 1 (nothing to replay), -2 → last
      const r = await rawCall({ session_id: sessionId, replay_from_sequence: String(from), sequenced: true });
      expect(r.error).toBeUndefined();
      const chunks = r.messages.filter((m) => m.output_chunk).map((m) => m.output_chunk);
      const want = all.slice(Math.max(from, 1) - 1);
      expect(chunks.map((c) => Number(c.sequence))).toEqual(want.map((p) => p.sequence));
      expect(chunks.map((c) => (c.stdout ?? c.stderr).toString())).toEqual(want.map((p) => p.data.toString()));
      expect(chunks.map((c) => (c.stdout ? 'stdout' : 'stderr'))).toEqual(want.map((p) => p.stream));
      expect(chunks.map((c) => c.timestamp)).toEqual(want.map((p) => String(p.timestampNs)));
      // proto3: a field at its default (false, 0) may be absent on the wire.
      expect(chunks.every((c) => c.is_replay === true && String(c.gap_before ?? '0') === '0')).toBe(true);
      const kinds = r.messages.map((m) =>
        m.ready ? `ready:${m.ready.replay_complete}` : m.output_chunk ? 'chunk' : m.outcome ? 'outcome' : m.exit !== undefined ? 'exit' : '?',
      );
      if (want.length) expect(kinds).toEqual(['ready:false', ...want.map(() => 'chunk'), 'ready:true', 'outcome', 'exit']);
      else expect(kinds).toEqual(['ready:true', 'outcome', 'exit']);
      expect(r.messages.at(-1)?.exit).toBe(3);
    },
  );

  it('past the next chunk → INVALID_ARGUMENT; unknown session → NOT_FOUND; another container or exec → INVALID_ARGUMENT', async () => {
    const past = await rawCall({ session_id: sessionId, replay_from_sequence: String(all.length + 2), sequenced: true });
    expect(past.error?.code).toBe(status.INVALID_ARGUMENT);
    const unknown = await rawCall({ session_id: '6d1b7a3e-0000-4000-8000-000000000000', sequenced: true });
    expect(unknown.error?.code).toBe(status.NOT_FOUND);
    const other = containerId.startsWith('a') ? 'b' : 'a';
    const wrongContainer = await rawCall({ session_id: sessionId, container_id: other.repeat(12), sequenced: true });
    expect(wrongContainer.error?.code).toBe(status.INVALID_ARGUMENT);
    const wrongExec = await rawCall({ session_id: sessionId, exec_id: 'f'.repeat(64), sequenced: true });
    expect(wrongExec.error?.code).toBe(status.INVALID_ARGUMENT);
    const right = await rawCall({ session_id: sessionId, container_id: containerId.slice(0, 12), replay_from_sequence: String(all.length), sequenced: true });
    expect(right.error).toBeUndefined();
    expect(right.messages.at(-1)?.exit).toBe(3);
  });

  it('a plain (reference) reader attached later gets the same bytes per stream', async () => {
    const r = await server.client.attach({ sessionId }).collect();
    expect(r.stdout.toString()).toBe(text(all.filter((p) => p.stream === 'stdout')));
    expect(r.stderr.toString()).toBe(text(all.filter((p) => p.stream === 'stderr')));
    expect(r.exitCode).toBe(3);
  });
});

it('a client attaching mid-run gets the past as replay, then Ready{replay_complete}, then live chunks with the same boundaries as everyone', async () => {
  // Ten lines, then the process waits until the test has seen the second client's replay complete; ten more.
  const lines = (from: number) => `i=${from}; while [ $i -le ${from + 9} ]; do echo "n $i"; i=$((i+1)); usleep 20000; done`;
  const a = server.client.run(BASE_IMAGE, {
    command: ['sh', '-c', `${lines(1)}; until ${GO_DONE}; do usleep 10000; done; ${lines(11)}`],
    sequenced: true,
  });
  const { sessionId, containerId } = await a.ready;
  const seenA: OutputPiece[] = [];
  const itA = a.output()[Symbol.asyncIterator]();
  const textA = () => Buffer.concat(seenA.map((p) => p.data)).toString();
  while (!textA().includes('n 10\n')) seenA.push((await itA.next()).value as OutputPiece);
  const b = openRawCall({ session_id: sessionId, replay_from_sequence: '1', sequenced: true });
  await waitUntil("the second client's replay complete", () => b.so.messages.some((m) => m.ready?.replay_complete) || b.so.error);
  expect(await server.client.exec(containerId, { command: GO }).wait()).toBe(0);
  for (let n = await itA.next(); !n.done; n = await itA.next()) seenA.push(n.value);
  const { messages } = await b.ended;
  expect(b.so.error).toBeUndefined();
  const chunksB = messages.filter((m) => m.output_chunk).map((m) => m.output_chunk);
  const completeAt = messages.findIndex((m) => m.ready?.replay_complete);
  const replayed = messages.slice(1, completeAt).filter((m) => m.output_chunk).length;
  expect(textA()).toBe(Array.from({ length: 20 }, (_, i) => `n ${i + 1}\n`).join(''));
  expect(replayed).toBeGreaterThanOrEqual(1); // lines 1-10, however they were chunked
  expect(replayed).toBeLessThan(seenA.length); // lines 11-20 were written after it: live
  expect(chunksB.map((c) => !!c.is_replay)).toEqual(chunksB.map((_, i) => i < replayed));
  expect(chunksB.map((c) => [Number(c.sequence), (c.stdout ?? c.stderr).toString()])).toEqual(seenA.map((p) => [p.sequence, p.data.toString()]));
});

it('while draining, new sessions and attaches are refused with UNAVAILABLE and clients are told', async () => {
  const own = await startTestServer();
  try {
    const done = own.client.run(BASE_IMAGE, { command: ['echo', 'hi'] });
    const { sessionId } = await done.ready;
    await done.wait();
    const running = own.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo up; sleep 60'] });
    const attached = backgroundReader(running.output());
    await attached.until('up\n');
    // What a SIGTERM runs (Nest's shutdown hook; without a signal it does not seal the files).
    await own.app.get(SessionDrain).beforeApplicationShutdown();
    const told = await running.exit.catch((e: ServiceError) => e);
    expect(told).toMatchObject({ code: status.UNAVAILABLE, details: DRAIN_MESSAGE });
    const run = await own.client.run(BASE_IMAGE, { command: ['true'] }).exit.catch((e: ServiceError) => e);
    expect(run).toMatchObject({ code: status.UNAVAILABLE, details: DRAIN_MESSAGE });
    const attach = await own.client.attach({ sessionId }).exit.catch((e: ServiceError) => e);
    expect(attach).toMatchObject({ code: status.UNAVAILABLE, details: DRAIN_MESSAGE });
  } finally {
    await own.close();
  }
});
