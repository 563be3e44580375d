import { status as Code } from '@grpc/grpc-js';
import type { AttachOptions, OutputPiece } from './exec-client';
import { ExecError } from './exec-error';
import { ResumingSession } from './resuming-session';
import { FakeExecClient, FakeExecService, type SessionScript } from './testing';
import { ScriptedFailure } from './testing/fake-exec-service';

/** Lets the fake calls (which answer on a real setImmediate, a few hops deep) run; fake time stands still. */
async function flush(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Runs fake time forward in 5 ms steps until `done()` (at most `maxMs` of fake time). */
async function until(done: () => boolean, maxMs = 10_000): Promise<void> {
  for (let t = 0; t < maxMs; t += 5) {
    await flush();
    if (done()) break;
    await jest.advanceTimersByTimeAsync(5);
  }
  expect(done()).toBe(true);
}

/** Drives fake time until `p` settles; returns it. */
async function drive<T>(p: Promise<T>, maxMs?: number): Promise<T> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await until(() => settled, maxMs);
  return p;
}

/** The failure `p` rejects with, once fake time has run far enough. */
async function failureOf(p: Promise<unknown>, maxMs?: number): Promise<ExecError> {
  try {
    await drive(p, maxMs);
  } catch (err) {
    return err as ExecError;
  }
  throw new Error('expected a failure');
}

async function pieces(s: ResumingSession, into: OutputPiece[] = []): Promise<OutputPiece[]> {
  for await (const p of s.output()) into.push(p);
  return into;
}

const text = (ps: OutputPiece[]) => ps.map((p) => p.data.toString()).join('');

/** An error as the service sends it, for a reattach the test makes fail. */
const refusal = (reason: 'SHUTTING_DOWN' | 'SESSION_NOT_FOUND') =>
  new ScriptedFailure({ reason, message: reason === 'SHUTTING_DOWN' ? 'the service is shutting down' : 'session gone' });

describe('ResumingSession', () => {
  let service: FakeExecService;
  let client: FakeExecClient;
  let attaches: { options: AttachOptions; atMs: number }[];
  let reconnectsSeen: { attempt: number; fromSequence: number; error: Error }[];

  /** A run of `image` playing `script`, resuming as told. */
  function run(script: SessionScript, options: { reconnectWindowMs?: number; openStdin?: boolean; clientId?: string } = {}) {
    service.onRun('img', script);
    return ResumingSession.run(client, 'img', { ...options, onReconnect: (info) => reconnectsSeen.push(info) });
  }

  /** Makes the next `n` reattaches (attach calls naming the session) fail with `err`. */
  function refuseReattaches(err: ScriptedFailure, n = Infinity): void {
    const find = service.find.bind(service);
    let left = n;
    jest.spyOn(service, 'find').mockImplementation((by) => {
      if (left-- > 0) throw err;
      return find(by);
    });
  }

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    service = new FakeExecService();
    client = new FakeExecClient(service);
    attaches = [];
    reconnectsSeen = [];
    const attach = client.attach.bind(client);
    jest.spyOn(client, 'attach').mockImplementation((options, call) => {
      attaches.push({ options, atMs: Date.now() });
      return attach(options, call);
    });
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  describe('a dropped call (UNAVAILABLE)', () => {
    it('is attached again from the last sequence handed over: every chunk once, in order, then the exit code', async () => {
      const s = run({ output: [{ stdout: 'a' }, { stderr: 'b' }, { disconnect: true, delayMs: 5 }, { stdout: 'c', delayMs: 5 }], exitCode: 3 });
      const got = await drive(pieces(s));
      expect(got.map((p) => [p.stream, p.data.toString(), p.sequence])).toEqual([
        ['stdout', 'a', 1],
        ['stderr', 'b', 2],
        ['stdout', 'c', 3],
      ]);
      expect(await s.exit).toBe(3);
      expect(s.outcome).toMatchObject({ exit_code: 3, reason: 'exited' });
      expect(service.sessions[0].start.sequenced).toBe(true);
      const { sessionId } = await s.ready;
      expect(attaches.map((a) => a.options)).toEqual([{ sessionId, fromSequence: 3, sequenced: true, clientId: undefined }]);
      expect(reconnectsSeen).toEqual([{ attempt: 1, fromSequence: 3, error: expect.objectContaining({ code: Code.UNAVAILABLE }) }]);
      expect(s.reconnects).toBe(1);
      expect(s.lastSequence).toBe(3);
      expect(service.sessions).toHaveLength(1); // attached again, not run again
    });

    it('keeps trying after refused reattaches, backing off from 50 ms, doubling', async () => {
      const s = run({ output: [{ stdout: 'a' }, { disconnect: true, delayMs: 5 }, { stdout: 'b', delayMs: 5 }] });
      refuseReattaches(refusal('SHUTTING_DOWN'), 3);
      const got = pieces(s);
      await until(() => reconnectsSeen.length === 1);
      const droppedAt = Date.now();
      expect(text(await drive(got))).toBe('ab');
      expect(attaches.map((a) => a.atMs - droppedAt)).toEqual([50, 150, 350, 750]);
      expect(reconnectsSeen.map((r) => [r.attempt, r.fromSequence])).toEqual([
        [1, 2],
        [2, 2],
        [3, 2],
        [4, 2],
      ]);
      expect(reconnectsSeen[1].error.message).toContain('the service is shutting down');
      expect(s.reconnects).toBe(1);
    });

    it('re-sends nothing written into the dropped call; with the client id, stdin goes on in the new one', async () => {
      const s = run(
        { output: [{ untilStdin: 'one' }, { stdout: '1' }, { disconnect: true, delayMs: 5 }, { untilStdin: 'two' }, { stdout: '2' }] },
        { openStdin: true, clientId: 'me' },
      );
      const got: OutputPiece[] = [];
      const all = pieces(s, got);
      await drive(s.ready);
      await s.write(Buffer.from('one'));
      await until(() => reconnectsSeen.length === 1); // dropped; back-off under way
      await expect(s.write(Buffer.from('lost'))).rejects.toMatchObject({ code: Code.UNAVAILABLE });
      await until(() => s.reconnects === 1);
      await s.write(Buffer.from('two'));
      await drive(all);
      expect(text(got)).toBe('12');
      expect(service.sessions[0].stdin.toString()).toBe('onetwo');
      expect(attaches.map((a) => a.options.clientId)).toEqual(['me']);
    });

    it('gives up once its window has passed since the drop, with the last error (UNAVAILABLE) as the cause', async () => {
      const s = run({ output: [{ stdout: 'a' }, { disconnect: true, delayMs: 5 }, { stdout: 'b', delayMs: 5 }] }, { reconnectWindowMs: 1000 });
      refuseReattaches(refusal('SHUTTING_DOWN'));
      const got: OutputPiece[] = [];
      const all = pieces(s, got);
      await until(() => reconnectsSeen.length === 1);
      const droppedAt = Date.now();
      const err = await failureOf(all);
      const { sessionId } = await s.ready;
      expect(err.message).toBe(`gave up reconnecting to session ${sessionId} after 1000 ms: 14 UNAVAILABLE: the service is shutting down`);
      expect(err).toMatchObject({ code: Code.UNAVAILABLE, cause: expect.objectContaining({ reason: 'SHUTTING_DOWN' }) });
      // Attempts at 50, 150, 350, 750 and 1550 ms; past 1000 ms none more.
      expect(attaches.map((a) => a.atMs - droppedAt)).toEqual([50, 150, 350, 750, 1550]);
      expect(text(got)).toBe('a');
      await expect(s.exit).rejects.toBe(err);
    });

    it('counts the window again from each successful reattach', async () => {
      const s = run(
        {
          output: [
            { stdout: 'a' },
            { disconnect: true, delayMs: 5 },
            { stdout: 'b', delayMs: 5 },
            { disconnect: true, delayMs: 1000 },
            { stdout: 'c', delayMs: 5 },
          ],
        },
        { reconnectWindowMs: 800 },
      );
      refuseReattaches(refusal('SHUTTING_DOWN'), 3); // the first drop: back at 750 ms of its 800; the second ~1 s after it
      const got = await drive(pieces(s));
      expect(text(got)).toBe('abc');
      expect(s.reconnects).toBe(2);
      expect(attaches.map((a) => a.options.fromSequence)).toEqual([2, 2, 2, 2, 3]);
    });

    it('stops at once when cancelled during the back-off, with the drop as the error', async () => {
      const s = run({ output: [{ stdout: 'a' }, { disconnect: true, delayMs: 5 }, { stdout: 'b', delayMs: 5 }] });
      const all = pieces(s);
      await until(() => reconnectsSeen.length === 1);
      s.cancel();
      const err = await failureOf(all);
      expect(err.code).toBe(Code.UNAVAILABLE);
      expect(attaches).toEqual([]);
      await expect(s.exit).rejects.toBe(err);
    });

    it('a stream reset it did not ask for (CANCELLED, as at the end of a drain) is a drop too: attached again, every chunk once', async () => {
      const s = run({ output: [{ stdout: 'a' }, { disconnect: 'reset', delayMs: 5 }, { stdout: 'b', delayMs: 5 }], exitCode: 7 });
      expect(text(await drive(pieces(s)))).toBe('ab');
      expect(await s.exit).toBe(7);
      expect(reconnectsSeen).toEqual([{ attempt: 1, fromSequence: 2, error: expect.objectContaining({ code: Code.CANCELLED }) }]);
      expect(s.reconnects).toBe(1);
    });

    it('its own cancel() mid-stream is final: CANCELLED, no reattach', async () => {
      const s = run({ output: [{ stdout: 'a' }, { stdout: 'b', delayMs: 50 }] });
      const got: OutputPiece[] = [];
      const all = pieces(s, got);
      await until(() => got.length === 1);
      s.cancel();
      const err = await failureOf(all);
      expect(err.code).toBe(Code.CANCELLED);
      expect(attaches).toEqual([]);
      expect(reconnectsSeen).toEqual([]);
    });

    it("stops when the caller's signal aborts", async () => {
      service.onRun('img', { output: [{ stdout: 'a' }, { disconnect: true, delayMs: 5 }, { stdout: 'b', delayMs: 5 }] });
      const abort = new AbortController();
      const s = ResumingSession.run(client, 'img', { onReconnect: (info) => reconnectsSeen.push(info) }, { signal: abort.signal });
      const all = pieces(s);
      await until(() => reconnectsSeen.length === 1);
      abort.abort();
      await failureOf(all);
      expect(attaches).toEqual([]);
    });

    it('a signal aborted mid-stream is final: CANCELLED, no reattach', async () => {
      service.onRun('img', { output: [{ stdout: 'a' }, { stdout: 'b', delayMs: 50 }] });
      const abort = new AbortController();
      const s = ResumingSession.run(client, 'img', { onReconnect: (info) => reconnectsSeen.push(info) }, { signal: abort.signal });
      const got: OutputPiece[] = [];
      const all = pieces(s, got);
      await until(() => got.length === 1);
      abort.abort();
      expect((await failureOf(all)).code).toBe(Code.CANCELLED);
      expect(attaches).toEqual([]);
      expect(reconnectsSeen).toEqual([]);
    });
  });

  describe('final statuses', () => {
    it.each([
      ['OUTPUT_DAMAGED', Code.DATA_LOSS],
      ['OUTPUT_INCOMPLETE', Code.ABORTED],
      ['INTERNAL', Code.INTERNAL],
    ] as const)('%s ends the session after the output before it, without a reattach', async (reason, code) => {
      const s = run({ output: [{ stdout: 'a' }], error: { reason, message: `scripted ${reason}` } });
      const got: OutputPiece[] = [];
      const err = await failureOf(pieces(s, got));
      expect(err).toBeInstanceOf(ExecError);
      expect(err).toMatchObject({ code, reason });
      expect(text(got)).toBe('a');
      expect(attaches).toEqual([]);
      await expect(s.exit).rejects.toBe(err);
    });

    it('a failure before Ready is final even when UNAVAILABLE: a run that never started is not started again', async () => {
      const s = run({ refuse: { reason: 'DOCKER_UNREACHABLE', message: 'Docker does not answer' } });
      const err = await failureOf(pieces(s));
      expect(err).toMatchObject({ code: Code.UNAVAILABLE, reason: 'DOCKER_UNREACHABLE' });
      await expect(s.ready).rejects.toBe(err);
      expect(attaches).toEqual([]);
      expect(reconnectsSeen).toEqual([]);
    });

    it('a reattach refused with a final status ends the session with that status', async () => {
      const s = run({ output: [{ stdout: 'a' }, { disconnect: true, delayMs: 5 }, { stdout: 'b', delayMs: 5 }] });
      refuseReattaches(refusal('SESSION_NOT_FOUND'));
      const err = await failureOf(pieces(s));
      expect(err).toMatchObject({ code: Code.NOT_FOUND, reason: 'SESSION_NOT_FOUND' });
      expect(attaches).toHaveLength(1);
      await expect(s.exit).rejects.toBe(err);
    });

    it('OUTCOME_LOST (UNAVAILABLE, but not retryable) is final: no reattach (each would get Ready and the same status, for ever)', async () => {
      service.onRun('img', { output: [{ stdout: 'a' }], error: { reason: 'OUTCOME_LOST', message: 'the outcome was lost' } });
      const s = ResumingSession.run(client, 'img', { reconnectWindowMs: 1000 });
      const err = await failureOf(pieces(s));
      expect(err).toMatchObject({ code: Code.UNAVAILABLE, reason: 'OUTCOME_LOST', retryable: false });
      expect(attaches).toHaveLength(0);
      await expect(s.exit).rejects.toBe(err);
    });
  });

  describe('attach', () => {
    it('attaches by session id from a sequence, and reattaches with that session id', async () => {
      service.onRun('img', { output: [{ stdout: 'a' }, { stdout: 'b' }, { disconnect: true, delayMs: 5 }, { stdout: 'c', delayMs: 5 }] });
      const first = client.run('img', { sequenced: true });
      const { sessionId } = await drive(first.ready);
      const s = ResumingSession.attach(client, { sessionId, fromSequence: 2 }, { onReconnect: (info) => reconnectsSeen.push(info) });
      expect(s.lastSequence).toBe(1);
      const got = await drive(pieces(s));
      expect(got.map((p) => p.sequence)).toEqual([2, 3]);
      expect(attaches.map((a) => [a.options.sessionId, a.options.fromSequence])).toEqual([
        [sessionId, 2],
        [sessionId, 3],
      ]);
      first.cancel();
    });

    it('attached by container id, reattaches by the session id Ready named', async () => {
      service.onRun('img', {
        output: [
          { stdout: 'a', delayMs: 5 },
          { disconnect: true, delayMs: 5 },
          { stdout: 'b', delayMs: 5 },
        ],
      });
      const first = client.run('img', { sequenced: true });
      const ready = await drive(first.ready);
      const s = ResumingSession.attach(client, { containerId: ready.containerId });
      expect(text(await drive(pieces(s)))).toBe('ab');
      expect(attaches.map((a) => [a.options.sessionId, a.options.containerId])).toEqual([
        [undefined, ready.containerId],
        [ready.sessionId, undefined],
      ]);
      first.cancel();
    });
  });

  it('output() can be consumed once', async () => {
    const s = run({ output: [{ stdout: 'a' }] });
    const first = s.output();
    await drive(first.next());
    await expect(s.output().next()).rejects.toThrow('output() can be consumed once');
    while (!(await drive(first.next())).done);
    expect(await s.exit).toBe(0);
  });
});
