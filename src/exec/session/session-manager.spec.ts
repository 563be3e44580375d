import { Test } from '@nestjs/testing';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../common/config/exec-config';
import { ExecError } from '../../common/errors';
import { CONTAINER_CONTROL, CONTAINER_RUNTIME, EXEC_CONFIG, ROOT_LOGGER } from '../../common/tokens';
import type { ContainerControl, ContainerRuntime, ProcessOutcome, RunSpec, StartedProcess } from '../../executor';
import { TeeWriterFactory } from '../output/tee-writer';
import { TailBudget, tailBudgetOf } from '../output/tail-budget';
import { SessionManager } from './session-manager';
import type { OutputSink } from '../../common/streams';

/** Docker replaced through its DI token: each run writes what the test says and ends when told. */
class FakeRuntime implements ContainerRuntime {
  runs: Array<{ spec: RunSpec; sink: OutputSink; end: (o: ProcessOutcome | Error) => void }> = [];
  removed: string[] = [];
  async ping() {}
  async run(spec: RunSpec, sink: OutputSink): Promise<StartedProcess> {
    let end!: (o: ProcessOutcome | Error) => void;
    const done = new Promise<ProcessOutcome>((resolve, reject) => (end = (o) => (o instanceof Error ? reject(o) : resolve(o))));
    this.runs.push({ spec, sink, end });
    return { containerId: `c${this.runs.length}`.padEnd(64, '0'), done };
  }
  async exec(): Promise<StartedProcess> {
    throw new ExecError('not_found', 'no such container');
  }
  async remove(id: string) {
    this.removed.push(id);
  }
}

describe('SessionManager', () => {
  let dir: string;
  let runtime: FakeRuntime;
  let manager: SessionManager;
  /** Signals the timeouts send, with the kill reason on disk at that moment. */
  let signals: Array<{ containerId: string; signal: number; onDisk?: string }>;
  beforeEach(async () => {
    signals = [];
    const control = {
      kill: async (containerId: string, signal: number) => {
        const s = manager.findByContainer(containerId);
        signals.push({ containerId, signal, onDisk: s.files.readKillReason() });
      },
    } as unknown as ContainerControl;
    dir = mkdtempSync(join(tmpdir(), 'manager-'));
    runtime = new FakeRuntime();
    const config = loadConfig({ EXEC_DATA_DIR: dir, EXEC_MAX_SESSIONS: '2', EXEC_RETENTION_SECONDS: '60' });
    const moduleRef = await Test.createTestingModule({
      providers: [
        SessionManager,
        TeeWriterFactory,
        { provide: TailBudget, useValue: tailBudgetOf(config) },
        { provide: EXEC_CONFIG, useValue: config },
        { provide: ROOT_LOGGER, useValue: pino({ level: 'silent' }) },
        { provide: CONTAINER_RUNTIME, useValue: runtime },
        { provide: CONTAINER_CONTROL, useValue: control },
      ],
    }).compile();
    manager = moduleRef.get(SessionManager);
  });
  afterEach(() => {
    manager.onModuleDestroy();
    rmSync(dir, { recursive: true, force: true });
  });
  const start = () => manager.start({ image: 'img', command: ['x'], env: {}, tty: false, openStdin: false });

  it('writes output to the session files, records the exit, removes the container', async () => {
    const s = await start();
    runtime.runs[0].sink.write('stdout', Buffer.from('out'));
    runtime.runs[0].sink.write('stderr', Buffer.from('err'));
    runtime.runs[0].end({ exitCode: 4 });
    await new Promise((r) => setImmediate(r));
    expect(s.outcome).toMatchObject({ exitCode: 4, record: { reason: 'exited', exitCode: 4, stdoutBytes: 3, stderrBytes: 3 } });
    expect(readFileSync(join(s.files.dir, 'stdout'), 'utf8')).toBe('out');
    expect(readFileSync(join(s.files.dir, 'stderr'), 'utf8')).toBe('err');
    expect(JSON.parse(readFileSync(join(s.files.dir, 'exit.json'), 'utf8')).exitCode).toBe(4);
    expect(runtime.removed).toEqual([s.containerId]);
  });

  it('a lost outcome is an error, never an exit code', async () => {
    const s = await start();
    runtime.runs[0].end(new ExecError('unavailable', 'Docker went away'));
    await new Promise((r) => setImmediate(r));
    expect(s.outcome).toMatchObject({ error: expect.objectContaining({ kind: 'unavailable' }), record: { reason: 'lost', exitCode: -1 } });
    expect(s.outcome).not.toHaveProperty('exitCode');
  });

  it('finds sessions by id and by container id prefix', async () => {
    const s = await start();
    expect(manager.get(s.id)).toBe(s);
    expect(manager.findByContainer(s.containerId.slice(0, 12))).toBe(s);
    expect(() => manager.get('nope')).toThrow(expect.objectContaining({ kind: 'not_found' }));
    expect(() => manager.findByContainer('ffff')).toThrow(expect.objectContaining({ kind: 'not_found' }));
  });

  it('refuses more running sessions than EXEC_MAX_SESSIONS; finished ones do not count', async () => {
    await start();
    await start();
    await expect(start()).rejects.toMatchObject({ kind: 'exhausted' });
    runtime.runs[0].end({ exitCode: 0 });
    await new Promise((r) => setImmediate(r));
    await expect(start()).resolves.toBeDefined();
  });

  it('a failed start leaves no session and no files behind', async () => {
    await expect(manager.start({ containerId: 'abc', command: ['x'], env: {}, tty: false, openStdin: false })).rejects.toMatchObject({ kind: 'not_found' });
    expect(manager.all()).toEqual([]);
  });

  it('forgets finished sessions after retention, and their files', async () => {
    const s = await start();
    runtime.runs[0].end({ exitCode: 0 });
    await new Promise((r) => setImmediate(r));
    expect(manager.sweep(Date.now() + 30_000)).toBe(0);
    expect(manager.sweep(Date.now() + 61_000)).toBe(1);
    expect(() => manager.get(s.id)).toThrow(expect.objectContaining({ kind: 'not_found' }));
    await manager.removalsSettled();
    expect(existsSync(s.files.dir)).toBe(false);
  });

  describe('output limit and the data directory reserve', () => {
    it('records output exactly up to the limit, kills the process (SIGKILL, kill.json first) and ends it output_limit', async () => {
      const s = await manager.start({ image: 'img', command: ['x'], env: {}, tty: false, openStdin: false, limits: { outputLimitBytes: 10 } });
      expect(JSON.parse(readFileSync(join(s.files.dir, 'meta.json'), 'utf8')).outputLimitBytes).toBe(10);
      runtime.runs[0].sink.write('stdout', Buffer.from('123456'));
      runtime.runs[0].sink.write('stderr', Buffer.from('abcdef'));
      runtime.runs[0].sink.write('stdout', Buffer.from('more'));
      expect(signals).toEqual([{ containerId: s.containerId, signal: 9, onDisk: 'output_limit' }]);
      runtime.runs[0].end({ exitCode: 137 });
      await new Promise((r) => setImmediate(r));
      expect(readFileSync(join(s.files.dir, 'stdout'), 'utf8')).toBe('123456');
      expect(readFileSync(join(s.files.dir, 'stderr'), 'utf8')).toBe('abcd');
      expect(s.outcome?.record).toMatchObject({
        reason: 'output_limit',
        exitCode: 137,
        stdoutBytes: 6,
        stderrBytes: 4,
        message: 'ended by the service when its output reached its limit of 10 bytes; what it wrote after was not recorded (exit code 137)',
      });
    });

    it('a Start above EXEC_SESSION_OUTPUT_BYTES is INVALID_ARGUMENT naming it; 0 takes the setting', async () => {
      await expect(
        manager.start({ image: 'img', command: ['x'], env: {}, tty: false, openStdin: false, limits: { outputLimitBytes: manager.budget.sessionBytes + 1 } }),
      ).rejects.toMatchObject({
        kind: 'invalid',
        message: expect.stringMatching(/^output_limit_bytes \d+ is above the maximum \d+ \(EXEC_SESSION_OUTPUT_BYTES\)$/),
      });
      expect((await start()).output.limitBytes).toBe(manager.budget.sessionBytes);
    });

    it('short of the reserve, finished sessions go, oldest-finished first, a reader of one told RESOURCE_EXHAUSTED; running ones stay', async () => {
      const [a, b] = [await start(), await start()];
      runtime.runs[0].sink.write('stdout', Buffer.alloc(1000));
      runtime.runs[1].sink.write('stdout', Buffer.alloc(1000));
      runtime.runs[0].end({ exitCode: 0 });
      await new Promise((r) => setTimeout(r, 5));
      runtime.runs[1].end({ exitCode: 0 });
      await new Promise((r) => setImmediate(r));
      const c = await start(); // running
      const told: unknown[] = [];
      a.disconnectClients = (err) => told.push(err);
      Object.defineProperty(a, 'clientCount', { get: () => 1 });
      const reserve = manager.budget.reserveBytes;
      expect(manager.keepReserve(reserve)).toBe(0);
      expect(manager.keepReserve(reserve - 500)).toBe(1); // the oldest-finished one frees enough
      expect(told).toEqual([expect.objectContaining({ kind: 'exhausted', message: expect.stringContaining('EXEC_DATA_RESERVE_BYTES') })]);
      expect(manager.all()).toEqual([b, c]);
      expect(manager.keepReserve(0)).toBe(1);
      expect(manager.all()).toEqual([c]);
      await manager.removalsSettled();
      expect([existsSync(a.files.dir), existsSync(b.files.dir), existsSync(c.files.dir)]).toEqual([false, false, true]);
    });
  });

  describe('timeouts across a restart', () => {
    afterEach(() => jest.useRealTimers());
    const startTimed = () =>
      manager.start({ image: 'img', command: ['x'], env: {}, tty: false, openStdin: false, limits: { timeoutMs: 4000, killGraceMs: 1000 } });

    it("keeps Start's timeouts in meta.json and records the kill reason on disk before the first signal", async () => {
      jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
      const s = await startTimed();
      expect(JSON.parse(readFileSync(join(s.files.dir, 'meta.json'), 'utf8')).timeouts).toEqual({ timeoutMs: 4000, idleTimeoutMs: 0, killGraceMs: 1000 });
      expect(s.files.readKillReason()).toBeUndefined();
      jest.advanceTimersByTime(4000);
      expect(signals).toEqual([{ containerId: s.containerId, signal: 15, onDisk: 'timeout' }]);
      runtime.runs[0].end({ exitCode: 143 });
      await new Promise((r) => setImmediate(r));
      expect(s.outcome?.record?.reason).toBe('timeout');
    });

    it('a session without timeouts stores none', async () => {
      const s = await start();
      expect(JSON.parse(readFileSync(join(s.files.dir, 'meta.json'), 'utf8'))).not.toHaveProperty('timeouts');
    });

    it('the drain disarms the timeouts: the process is left for the next start to enforce them', async () => {
      jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
      await startTimed();
      manager.beginDrain('shutting down');
      jest.advanceTimersByTime(60_000);
      expect(signals).toEqual([]);
    });
  });
});
