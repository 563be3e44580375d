import { status } from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ExecError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import type { StartedProcess } from '../../executor';
import { OutputLog } from '../output/output-log';
import { SessionFiles } from '../output/session-files';
import { TailBudget } from '../output/tail-budget';
import { TeeWriterFactory } from '../output/tee-writer';
import type { ClientStream } from './client-cursor';
import { RESIZE_DEBOUNCE_MS } from './process-input';
import { Session } from './session';

const CONTAINER = 'c'.repeat(64);

/** A grpc-js-like call that takes every message at once. */
class FakeCall extends EventEmitter implements ClientStream {
  sent: Array<Record<string, unknown> | Buffer> = [];
  ended = false;
  status?: { code: number; details: string };
  constructor() {
    super();
    this.on('error', (s: { code: number; details: string }) => (this.status = s));
  }
  write(message: Record<string, unknown> | Buffer, callback?: () => void): boolean {
    this.sent.push(message);
    if (callback) setImmediate(callback);
    return true;
  }
  end(): void {
    this.ended = true;
  }
}

const never = new Promise<never>(() => undefined);
const tick = () => new Promise((r) => setImmediate(r));

describe('Session', () => {
  let dir: string;
  let files: SessionFiles;
  let output: OutputLog;
  let session: Session;
  let logger: { warn: jest.Mock; error: jest.Mock; info: jest.Mock; debug: jest.Mock };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'session-'));
    files = SessionFiles.create(join(dir, 's1'), {});
    output = new OutputLog(files, new TailBudget(1 << 20, 1 << 20));
    logger = { warn: jest.fn(), error: jest.fn(), info: jest.fn(), debug: jest.fn() };
    session = new Session(
      { id: 's1', kind: 'run', image: 'img', command: ['sh'], tty: false, createdAt: Date.now() },
      files,
      output,
      new TeeWriterFactory().create(output),
      logger as unknown as Logger,
    );
  });
  afterEach(() => {
    jest.useRealTimers();
    files.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('bind', () => {
    it('takes the process’s container and exec ids and the start time', () => {
      const before = Date.now();
      session.bind({ containerId: CONTAINER, execId: 'e1', done: never });
      expect(session.containerId).toBe(CONTAINER);
      expect(session.execId).toBe('e1');
      expect(session.startedAt).toBeGreaterThanOrEqual(before);
      expect(session.startedAt).toBeLessThanOrEqual(Date.now());
      expect(session.running).toBe(true);
    });

    it('gives the session an input only when the process has stdin or a terminal', () => {
      session.bind({ containerId: CONTAINER, done: never });
      expect(session.input).toBeUndefined();
      const withStdin = new Session(session.info, files, output, session.tee, logger as unknown as Logger);
      withStdin.bind({ containerId: CONTAINER, done: never, stdin: new Writable({ write: (_c, _e, cb) => cb() }) }, 'client-1');
      expect(withStdin.input?.starterClientId).toBe('client-1');
      expect(withStdin.input?.size).toBeUndefined();
      const withTty = new Session(session.info, files, output, session.tee, logger as unknown as Logger);
      withTty.bind({ containerId: CONTAINER, done: never, resize: async () => undefined });
      expect(withTty.input?.size).toEqual({ width: 80, height: 24 });
    });

    it('records each terminal size applied beside the output, after the last chunk recorded', async () => {
      const process: StartedProcess = { containerId: CONTAINER, done: never, resize: async () => undefined };
      session.bind(process);
      output.record('stdout', Buffer.from('one'));
      output.record('stdout', Buffer.from('two'));
      await session.input!.applyInitial();
      expect(files.readResizes()).toEqual([expect.objectContaining({ width: 80, height: 24, after_sequence: 2 })]);
    });

    it('a terminal size that cannot be recorded is logged, not thrown', async () => {
      jest.spyOn(files, 'appendResize').mockImplementation(() => {
        throw new Error('EIO');
      });
      session.bind({ containerId: CONTAINER, done: never, resize: async () => undefined });
      await expect(session.input!.applyInitial()).resolves.toBeUndefined();
      expect(logger.warn).toHaveBeenCalledWith({ err: 'EIO', size: { width: 80, height: 24 } }, expect.stringMatching(/not recorded/));
    });
  });

  describe('killReason', () => {
    it('is recorded on disk (kill.json) when set while the process runs, once per change', () => {
      session.bind({ containerId: CONTAINER, done: never });
      const write = jest.spyOn(files, 'writeKillReason');
      session.killReason = 'timeout';
      expect(files.readKillReason()).toBe('timeout');
      session.killReason = 'timeout';
      expect(write).toHaveBeenCalledTimes(1);
      session.killReason = 'output_limit';
      expect(files.readKillReason()).toBe('output_limit');
      expect(session.killReason).toBe('output_limit');
    });

    it('is not written for a finished session, nor when restored from disk', () => {
      session.bind({ containerId: CONTAINER, done: never });
      session.restoreKillReason('idle_timeout');
      expect(session.killReason).toBe('idle_timeout');
      expect(files.readKillReason()).toBeUndefined();
      session.finish({ exitCode: 0 });
      session.killReason = 'killed_by_request';
      expect(files.readKillReason()).toBeUndefined();
    });

    it('that cannot be written is logged and kept in memory', () => {
      jest.spyOn(files, 'writeKillReason').mockImplementation(() => {
        throw new Error('ENOSPC');
      });
      session.bind({ containerId: CONTAINER, done: never });
      expect(() => (session.killReason = 'timeout')).not.toThrow();
      expect(session.killReason).toBe('timeout');
      expect(logger.warn).toHaveBeenCalledWith({ err: 'ENOSPC', reason: 'timeout' }, expect.any(String));
    });
  });

  describe('finish', () => {
    it('records the outcome with the output’s byte counts, writes exit.json and ends the output', () => {
      session.bind({ containerId: CONTAINER, done: never });
      output.record('stdout', Buffer.from('12345'));
      output.record('stderr', Buffer.from('ab'));
      session.finish({ exitCode: 3 });
      expect(session.running).toBe(false);
      expect(session.finishedAt).toBeGreaterThanOrEqual(session.startedAt!);
      expect(session.outcome).toMatchObject({ exitCode: 3, record: { reason: 'exited', exitCode: 3, stdoutBytes: 5, stderrBytes: 2 } });
      expect(files.readExit()).toMatchObject({ exitCode: 3, finishedAt: session.finishedAt, outcome: { reason: 'exited', exitCode: 3 } });
      expect(output.finished).toBe(true);
    });

    it('only the first call counts', () => {
      session.bind({ containerId: CONTAINER, done: never });
      session.finish({ exitCode: 1 });
      const first = session.outcome;
      session.finish({ exitCode: 2 });
      session.finish({ error: new ExecError('unavailable', 'gone') });
      expect(session.outcome).toBe(first);
      expect(files.readExit()).toMatchObject({ exitCode: 1 });
    });

    it('says why the service ended the process, with the timeout’s last signal', () => {
      session.bind({ containerId: CONTAINER, done: never });
      session.killReason = 'timeout';
      session.timeoutSignal = 9;
      session.finish({ exitCode: 137 });
      expect(session.outcome?.record).toMatchObject({ reason: 'timeout', signal: 9, timeoutSignal: 9 });
    });

    it('a lost outcome is recorded as its error, naming the session, never as an exit code', () => {
      session.bind({ containerId: CONTAINER, done: never });
      const err = new ExecError('unavailable', 'Docker went away');
      session.finish({ error: err });
      expect(session.outcome?.record).toMatchObject({ reason: 'lost', exitCode: -1, message: 'Docker went away' });
      expect(err.detail).toEqual({ reason: 'OUTCOME_LOST', resource: { type: 'session', name: 's1' } });
      const exit = files.readExit()!;
      expect(exit).toMatchObject({ error: { kind: 'unavailable', message: 'Docker went away', reason: 'OUTCOME_LOST' } });
      expect(exit).not.toHaveProperty('exitCode');
    });

    it('tells onFinished once, before the exit record is written; its failure is logged, the record still written', () => {
      session.bind({ containerId: CONTAINER, done: never });
      const seen: Array<{ session: Session; exitWritten: boolean }> = [];
      session.onFinished = (s) => {
        seen.push({ session: s, exitWritten: existsSync(join(files.dir, 'exit.json')) });
        throw new Error('audit trail full');
      };
      session.finish({ exitCode: 0 });
      session.finish({ exitCode: 0 });
      expect(seen).toEqual([{ session, exitWritten: false }]);
      expect(logger.error).toHaveBeenCalledWith({ err: 'audit trail full' }, expect.any(String));
      expect(files.readExit()).toMatchObject({ exitCode: 0 });
    });

    it('an exit record that cannot be written is logged; the session still finishes', () => {
      jest.spyOn(files, 'writeExit').mockImplementation(() => {
        throw new Error('EROFS');
      });
      session.bind({ containerId: CONTAINER, done: never });
      expect(() => session.finish({ exitCode: 0 })).not.toThrow();
      expect(session.running).toBe(false);
      expect(output.finished).toBe(true);
      expect(logger.error).toHaveBeenCalledWith({ err: 'EROFS' }, 'could not write exit record');
    });

    it('drops a terminal resize still waiting for its burst to end', async () => {
      jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
      const resize = jest.fn(async () => undefined);
      session.bind({ containerId: CONTAINER, done: never, resize });
      session.input!.resize(100, 30);
      session.finish({ exitCode: 0 });
      await jest.advanceTimersByTimeAsync(RESIZE_DEBOUNCE_MS * 2);
      expect(resize).not.toHaveBeenCalled();
    });
  });

  describe('clients', () => {
    it('a client attached to a finished session gets Ready (with the ids and terminal size), the output, the outcome and exit', async () => {
      session.bind({ containerId: CONTAINER, execId: 'e1', done: never, resize: async () => undefined });
      output.record('stdout', Buffer.from('hello'));
      session.finish({ exitCode: 0 });
      const call = new FakeCall();
      const done = session.attach(call, { fromSequence: 1, sequenced: false });
      expect(session.clientCount).toBe(1);
      await done;
      expect(session.clientCount).toBe(0);
      expect(call.sent[0]).toEqual({
        ready: { session_id: 's1', container_id: CONTAINER, exec_id: 'e1', terminal_size: { Width: 80, Height: 24 }, replay_complete: true },
      });
      expect(call.sent).toHaveLength(4); // ready, the chunk, outcome, exit
      expect(call.sent.at(-2)).toMatchObject({ outcome: { reason: 'exited', exit_code: 0 } });
      expect(call.sent.at(-1)).toEqual({ exit: 0 });
      expect(call.ended).toBe(true);
    });

    it('keeps the files open while a client reads a finished session, and closes them when it leaves', async () => {
      session.bind({ containerId: CONTAINER, done: never });
      const call = new FakeCall();
      const done = session.attach(call, { fromSequence: 1, sequenced: false });
      await tick();
      session.finish({ exitCode: 0 });
      expect(files.openDescriptors).toBe(3);
      await done;
      expect(files.openDescriptors).toBe(0);
    });

    it('disconnectClients ends every attached call with the error, and the session forgets them', async () => {
      session.bind({ containerId: CONTAINER, done: never });
      const calls = [new FakeCall(), new FakeCall()];
      const done = calls.map((c) => session.attach(c, { fromSequence: 1, sequenced: false }));
      await tick();
      expect(session.clientCount).toBe(2);
      session.disconnectClients(new ExecError('unavailable', 'the service is shutting down'));
      await Promise.all(done);
      expect(session.clientCount).toBe(0);
      for (const c of calls) expect(c.status).toMatchObject({ code: status.UNAVAILABLE, details: 'the service is shutting down' });
      expect(session.running).toBe(true);
    });
  });
});
