import { Writable } from 'node:stream';
import { ExecError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import { DEFAULT_TTY, type StartedProcess } from '../../executor';
import { MAX_STDIN_CHUNK, ProcessInput, RESIZE_DEBOUNCE_MS, type TerminalSize } from './process-input';

/** A process's stdin that keeps what it is given and holds `highWaterMark` bytes before asking to wait. */
class FakeStdin extends Writable {
  readonly received: Buffer[] = [];
  private pendingCallbacks: Array<() => void> = [];
  constructor(highWaterMark = 16) {
    super({ highWaterMark });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, callback: () => void): void {
    this.received.push(chunk);
    this.pendingCallbacks.push(callback); // taken only when the test says the process read it
  }
  /** The process reads everything written so far. */
  consume(): void {
    const callbacks = this.pendingCallbacks;
    this.pendingCallbacks = [];
    for (const cb of callbacks) cb();
  }
}

interface Fixture {
  input: ProcessInput;
  stdin?: FakeStdin;
  resizes: TerminalSize[];
  resized: TerminalSize[];
  warn: jest.Mock;
}

function fixture(opts: { stdin?: boolean; tty?: boolean; clientId?: string; failResize?: boolean } = {}): Fixture {
  const stdin = opts.stdin === false ? undefined : new FakeStdin();
  const resizes: TerminalSize[] = [];
  const resized: TerminalSize[] = [];
  const process: StartedProcess = { containerId: 'c'.repeat(64), done: new Promise(() => undefined), stdin };
  if (opts.tty) {
    process.resize = async (width, height) => {
      resizes.push({ width, height });
      if (opts.failResize) throw new Error('no such exec');
    };
  }
  const warn = jest.fn();
  const logger = { warn } as unknown as Logger;
  const input = new ProcessInput(process, opts.clientId ?? '', logger, (size) => resized.push(size));
  return { input, stdin, resizes, resized, warn };
}

/** What an ExecError thrown by `fn` says a client can act on. */
function refusal(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ExecError)) throw err;
    return { kind: err.kind, reason: err.detail?.reason, field: err.detail?.field, message: err.message };
  }
  throw new Error('not refused');
}

describe('ProcessInput', () => {
  describe('who may write', () => {
    it('the starter always; another call only with the starter’s non-empty client_id', () => {
      const { input } = fixture({ clientId: 'client-1' });
      expect(input.mayWrite(true, undefined)).toBe(true);
      expect(input.mayWrite(true, 'someone-else')).toBe(true);
      expect(input.mayWrite(false, 'client-1')).toBe(true);
      expect(input.mayWrite(false, 'client-2')).toBe(false);
      expect(input.mayWrite(false, undefined)).toBe(false);
      expect(input.mayWrite(false, '')).toBe(false);
    });

    it('nobody but the starter when the starter gave no client_id', () => {
      const { input } = fixture();
      expect(input.mayWrite(true, undefined)).toBe(true);
      expect(input.mayWrite(false, '')).toBe(false);
      expect(input.mayWrite(false, undefined)).toBe(false);
    });
  });

  describe('stdin', () => {
    it('passes each message through in order and is open until EOF', () => {
      const { input, stdin } = fixture();
      expect(input.open).toBe(true);
      input.write(Buffer.from('ab'));
      input.write(Buffer.from('cd'));
      expect(Buffer.concat(stdin!.received).toString()).toBe('ab');
      stdin!.consume();
      expect(Buffer.concat(stdin!.received).toString()).toBe('abcd');
    });

    it('asks the caller to wait when the process is behind, and onDrain says when to go on', () => {
      const { input, stdin } = fixture();
      expect(input.write(Buffer.alloc(8))).toBe(true);
      expect(input.write(Buffer.alloc(8))).toBe(false); // 16 bytes held: the stream's limit
      const drained = jest.fn();
      input.onDrain(drained);
      expect(drained).not.toHaveBeenCalled();
      stdin!.consume();
      stdin!.consume();
      expect(drained).toHaveBeenCalledTimes(1);
    });

    it('an empty message is EOF: the process’s stdin ends and later writes are refused', () => {
      const { input, stdin } = fixture();
      input.write(Buffer.from('x'));
      expect(input.write(Buffer.alloc(0))).toBe(true);
      expect(input.open).toBe(false);
      expect(stdin!.writableEnded).toBe(true);
      expect(refusal(() => input.write(Buffer.from('late')))).toMatchObject({
        kind: 'precondition',
        reason: 'STDIN_NOT_OPEN',
        message: 'stdin was already closed (EOF)',
      });
      expect(refusal(() => input.write(Buffer.alloc(0)))).toMatchObject({ kind: 'precondition', reason: 'STDIN_NOT_OPEN' });
    });

    it('end() is EOF once, however often it is called', () => {
      const { input, stdin } = fixture();
      const end = jest.spyOn(stdin!, 'end');
      input.end();
      input.end();
      expect(end).toHaveBeenCalledTimes(1);
      expect(input.open).toBe(false);
    });

    it(`takes a message of ${MAX_STDIN_CHUNK} bytes and refuses a larger one, naming the field`, () => {
      const { input, stdin } = fixture();
      expect(refusal(() => input.write(Buffer.alloc(MAX_STDIN_CHUNK + 1)))).toEqual({
        kind: 'invalid',
        reason: 'FIELD_INVALID',
        field: 'stdin',
        message: `stdin message of ${MAX_STDIN_CHUNK + 1} bytes is over the ${MAX_STDIN_CHUNK}-byte limit`,
      });
      expect(stdin!.received).toHaveLength(0);
      input.write(Buffer.alloc(MAX_STDIN_CHUNK));
      expect(stdin!.received).toHaveLength(1);
      expect(input.open).toBe(true);
    });

    it('without stdin: not open, a write is refused, EOF and onDrain are harmless', () => {
      const { input } = fixture({ stdin: false, tty: true });
      expect(input.open).toBe(false);
      expect(refusal(() => input.write(Buffer.from('x')))).toMatchObject({
        kind: 'precondition',
        reason: 'STDIN_NOT_OPEN',
        message: expect.stringMatching(/open_stdin/),
      });
      expect(() => input.end()).not.toThrow();
      expect(() => input.onDrain(() => undefined)).not.toThrow();
      expect(() => input.writerLeft()).not.toThrow();
    });

    it('a failed write to the process is logged, not thrown at whoever emitted it', () => {
      const { stdin, warn } = fixture();
      expect(() => stdin!.emit('error', new Error('EPIPE'))).not.toThrow();
      expect(warn).toHaveBeenCalledWith({ err: 'EPIPE' }, 'stdin write failed');
    });
  });

  describe('a writer that leaves without EOF', () => {
    it('keeps stdin open for a starter with a client_id to come back to', () => {
      const { input, stdin } = fixture({ clientId: 'client-1' });
      input.writerLeft();
      expect(input.open).toBe(true);
      expect(stdin!.writableEnded).toBe(false);
    });

    it('is EOF when there is no client_id, since nobody could write again', () => {
      const { input, stdin } = fixture();
      input.writerLeft();
      expect(input.open).toBe(false);
      expect(stdin!.writableEnded).toBe(true);
    });
  });

  describe('terminal size', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('starts at the default size for a tty, and has none without one', () => {
      expect(fixture({ tty: true }).input.size).toEqual(DEFAULT_TTY);
      expect(fixture().input.size).toBeUndefined();
    });

    it('applyInitial() sets the terminal to its size and reports it', async () => {
      const { input, resizes, resized } = fixture({ tty: true });
      await input.applyInitial();
      expect(resizes).toEqual([{ width: DEFAULT_TTY.width, height: DEFAULT_TTY.height }]);
      expect(resized).toEqual([{ width: DEFAULT_TTY.width, height: DEFAULT_TTY.height }]);
    });

    it('applyInitial() that fails reports nothing and does not throw; without a tty it does nothing', async () => {
      const failing = fixture({ tty: true, failResize: true });
      await expect(failing.input.applyInitial()).resolves.toBeUndefined();
      expect(failing.resizes).toHaveLength(1);
      expect(failing.resized).toEqual([]);
      const plain = fixture();
      await expect(plain.input.applyInitial()).resolves.toBeUndefined();
      expect(plain.resized).toEqual([]);
    });

    it(`applies only the latest of a burst, ${RESIZE_DEBOUNCE_MS} ms after the burst paused`, async () => {
      const { input, resizes, resized } = fixture({ tty: true });
      input.resize(100, 30);
      await jest.advanceTimersByTimeAsync(RESIZE_DEBOUNCE_MS - 1);
      input.resize(120, 40);
      await jest.advanceTimersByTimeAsync(RESIZE_DEBOUNCE_MS - 1);
      input.resize(132, 43);
      await jest.advanceTimersByTimeAsync(RESIZE_DEBOUNCE_MS - 1);
      expect(resizes).toEqual([]);
      expect(input.size).toEqual(DEFAULT_TTY);
      await jest.advanceTimersByTimeAsync(1);
      expect(resizes).toEqual([{ width: 132, height: 43 }]);
      expect(resized).toEqual([{ width: 132, height: 43 }]);
      expect(input.size).toEqual({ width: 132, height: 43 });
      input.resize(90, 20); // a later burst is applied on its own
      await jest.advanceTimersByTimeAsync(RESIZE_DEBOUNCE_MS);
      expect(resizes).toEqual([
        { width: 132, height: 43 },
        { width: 90, height: 20 },
      ]);
    });

    it('a resize that fails is logged; the size stays what the terminal last had', async () => {
      const { input, resized, warn } = fixture({ tty: true, failResize: true });
      input.resize(100, 30);
      await jest.advanceTimersByTimeAsync(RESIZE_DEBOUNCE_MS);
      expect(input.size).toEqual(DEFAULT_TTY);
      expect(resized).toEqual([]);
      expect(warn).toHaveBeenCalledWith({ err: 'no such exec', size: { width: 100, height: 30 } }, 'resize failed');
    });

    it('dispose() drops a resize still waiting for its burst to end', async () => {
      const { input, resizes } = fixture({ tty: true });
      input.resize(100, 30);
      input.dispose();
      await jest.advanceTimersByTimeAsync(RESIZE_DEBOUNCE_MS * 2);
      expect(resizes).toEqual([]);
    });

    it('refuses sizes outside 1..10000 or not whole, without touching a pending one', async () => {
      const { input, resizes } = fixture({ tty: true });
      input.resize(10_000, 1);
      for (const [w, h] of [
        [0, 24],
        [80, 0],
        [-1, 24],
        [10_001, 24],
        [80, 10_001],
        [80.5, 24],
        [Number.NaN, 24],
        [80, Number.POSITIVE_INFINITY],
      ]) {
        expect(refusal(() => input.resize(w, h))).toMatchObject({ kind: 'invalid', reason: 'FIELD_INVALID', field: 'resize' });
      }
      await jest.advanceTimersByTimeAsync(RESIZE_DEBOUNCE_MS);
      expect(resizes).toEqual([{ width: 10_000, height: 1 }]);
    });

    it('refuses a resize of a session without a tty', () => {
      const { input } = fixture();
      expect(refusal(() => input.resize(80, 24))).toMatchObject({ kind: 'precondition', reason: 'NOT_A_TTY' });
    });
  });
});
