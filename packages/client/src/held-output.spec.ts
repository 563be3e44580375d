import { EventEmitter } from 'node:events';
import type { ExecSession, OutputPiece } from './exec-client';
import { HELD_END, heldOutput, sessionLog } from './held-output';

/**
 * A sequenced attach as ExecSession shows it: each message is emitted on `call` ('data') as the wire
 * has it, and a chunk is handed to output() when the test releases it (so a mark may come before the
 * chunks it counts are given out).
 */
function fakeSession() {
  const call = new EventEmitter();
  const given: OutputPiece[] = [];
  let waiting: ((r: IteratorResult<OutputPiece>) => void) | undefined;
  let ended = false;
  const cancel = jest.fn();
  const hand = () => {
    if (!waiting) return;
    const w = waiting;
    if (given.length) {
      waiting = undefined;
      w({ value: given.shift()!, done: false });
    } else if (ended) {
      waiting = undefined;
      w({ value: undefined, done: true });
    }
  };
  const session = {
    call,
    cancel,
    output: () => ({
      next: () => new Promise<IteratorResult<OutputPiece>>((resolve) => ((waiting = resolve), hand())),
    }),
  } as unknown as ExecSession;
  return {
    session,
    cancel,
    /** A chunk on the wire; `release` false keeps it from output() until release() is called. */
    chunk(data: string, isReplay: boolean, release = true) {
      call.emit('data', { output_chunk: { data: Buffer.from(data) } });
      const piece: OutputPiece = { stream: 'stdout', data: Buffer.from(data), isReplay };
      if (release) given.push(piece);
      hand();
      return () => (given.push(piece), hand());
    },
    mark: () => call.emit('data', { ready: { replay_complete: true } }),
    end: () => ((ended = true), hand()),
  };
}

const texts = (all: Array<OutputPiece | typeof HELD_END>) => all.map((p) => (p === HELD_END ? 'HELD' : p.data.toString()));

async function collect<T>(gen: AsyncGenerator<T>, steps: Array<() => void>): Promise<T[]> {
  const out: T[] = [];
  const reading = (async () => {
    for await (const v of gen) out.push(v);
  })();
  for (const step of steps) {
    await new Promise((r) => setImmediate(r));
    step();
  }
  await reading;
  return out;
}

describe('sessionLog / heldOutput', () => {
  it('gives the chunks held at the attach, then HELD_END, and without follow stops there (live output not waited for)', async () => {
    const f = fakeSession();
    const got = await collect(sessionLog(f.session, false), [
      () => f.chunk('r1', true),
      () => f.chunk('r2', true),
      () => f.mark(),
      () => f.chunk('live', false),
    ]);
    expect(texts(got)).toEqual(['r1', 'r2', 'HELD']);
    expect(f.cancel).toHaveBeenCalled();
  });

  it('with follow, goes on with the live chunks after HELD_END until the output ends', async () => {
    const f = fakeSession();
    const got = await collect(sessionLog(f.session, true), [
      () => f.chunk('r1', true),
      () => f.mark(),
      () => f.chunk('l1', false),
      () => f.chunk('l2', false),
      () => f.end(),
    ]);
    expect(texts(got)).toEqual(['r1', 'HELD', 'l1', 'l2']);
  });

  it('a mark that arrives before the chunks it counts are given waits for them', async () => {
    const f = fakeSession();
    let release1 = () => undefined as unknown;
    let release2 = () => undefined as unknown;
    const got = await collect(sessionLog(f.session, false), [
      () => (release1 = f.chunk('r1', true, false)),
      () => (release2 = f.chunk('r2', true, false)),
      () => f.mark(),
      () => release1(),
      () => release2(),
    ]);
    expect(texts(got)).toEqual(['r1', 'r2', 'HELD']);
  });

  it('counts from the call, not from the first read: chunks and the mark that came while the caller awaited something else are held', async () => {
    const f = fakeSession();
    const output = heldOutput(f.session); // as asciicast() does, then awaits Ready and the sizes
    f.chunk('r1', true);
    f.chunk('r2', true);
    f.mark();
    f.chunk('late', false);
    const got: string[] = [];
    for await (const p of output) got.push(p.data.toString());
    expect(got).toEqual(['r1', 'r2']);
  });

  it('a finished session (its exit instead of the mark) ends without HELD_END; heldOutput gives only the pieces', async () => {
    const f = fakeSession();
    expect(texts(await collect(sessionLog(f.session, false), [() => f.chunk('r1', true), () => f.end()]))).toEqual(['r1']);
    const g = fakeSession();
    const got = await collect(heldOutput(g.session), [() => g.chunk('a', true), () => g.mark(), () => g.chunk('late', false)]);
    expect(got.map((p) => p.data.toString())).toEqual(['a']);
    expect(g.cancel).toHaveBeenCalled();
  });
});
