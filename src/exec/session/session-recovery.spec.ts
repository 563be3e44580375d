import { Test } from '@nestjs/testing';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, type ExecConfig } from '../../common/config/exec-config';
import { ExecError } from '../../common/errors';
import { HealthState } from '../../common/health-state';
import { CONTAINER_CONTROL, CONTAINER_RECOVERY, CONTAINER_RUNTIME, EXEC_CONFIG, ROOT_LOGGER } from '../../common/tokens';
import type { ContainerRecovery, ContainerRuntime, ManagedContainer, ProcessOutcome, ReadoptSpec, RunSpec, StartedProcess } from '../../executor';
import { TeeWriterFactory } from '../output/tee-writer';
import { TailBudget, tailBudgetOf } from '../output/tail-budget';
import { ContainerReconciler } from './container-reconciler';
import { SessionManager } from './session-manager';
import { SessionRecovery } from './session-recovery';
import type { OutputSink } from '../../common/streams';

/** A process the test ends: what a fake's run or readopt hands back. */
interface Held {
  sink: OutputSink;
  end: (o: ProcessOutcome | Error) => void;
}
function held(containerId: string, sink: OutputSink, into: Held[]): StartedProcess {
  let end!: Held['end'];
  const done = new Promise<ProcessOutcome>((resolve, reject) => (end = (o) => (o instanceof Error ? reject(o) : resolve(o))));
  into.push({ sink, end });
  return { containerId, done };
}

/** Docker replaced through its DI tokens: runs and removals are recorded, each run ends when told. */
class FakeRuntime implements ContainerRuntime {
  runs: Held[] = [];
  removed: string[] = [];
  async ping() {}
  async run(_spec: RunSpec, sink: OutputSink): Promise<StartedProcess> {
    return held(`c${this.runs.length + 1}`.padEnd(64, '0'), sink, this.runs);
  }
  async exec(): Promise<StartedProcess> {
    throw new ExecError('not_found', 'no such container');
  }
  async remove(id: string) {
    this.removed.push(id);
  }
}

/** The engine after the restart: the containers it lists, and each re-adoption the test ends. */
class FakeRecovery implements ContainerRecovery {
  readopts: Array<Held & { spec: ReadoptSpec }> = [];
  constructor(private readonly containers: ManagedContainer[] | Error) {}
  async listManaged() {
    if (this.containers instanceof Error) throw this.containers;
    return this.containers;
  }
  async readopt(spec: ReadoptSpec, sink: OutputSink): Promise<StartedProcess> {
    const into: Held[] = [];
    const p = held(spec.containerId, sink, into);
    this.readopts.push({ ...into[0], spec });
    return p;
  }
  async readoptExec(): Promise<StartedProcess> {
    throw new ExecError('aborted', 'no record of this exec');
  }
  async execState() {
    return undefined;
  }
}

/** One service instance on `config`'s data dir: the session side of a start, with Docker faked. */
async function instance(config: ExecConfig, runtime: FakeRuntime, recovery?: FakeRecovery) {
  const moduleRef = await Test.createTestingModule({
    providers: [
      SessionManager,
      SessionRecovery,
      ContainerReconciler,
      TeeWriterFactory,
      HealthState,
      { provide: TailBudget, useValue: tailBudgetOf(config) },
      { provide: EXEC_CONFIG, useValue: config },
      { provide: ROOT_LOGGER, useValue: pino({ level: 'silent' }) },
      { provide: CONTAINER_RUNTIME, useValue: runtime },
      { provide: CONTAINER_CONTROL, useValue: { kill: async () => {} } },
      ...(recovery ? [{ provide: CONTAINER_RECOVERY, useValue: recovery }] : []),
    ],
  }).compile();
  return { manager: moduleRef.get(SessionManager), recovery: moduleRef.get(SessionRecovery), health: moduleRef.get(HealthState) };
}

const tick = () => new Promise((r) => setImmediate(r));
const stdoutOf = (dir: string) => readFileSync(join(dir, 'stdout'), 'utf8');

describe('SessionRecovery (the session side of a restart, docs/DURABILITY.md)', () => {
  let dir: string;
  /** Each test's first instance: a finished session, and two left running when it "crashes". */
  let before: { finished: string; running: string; gone: string; runningContainer: string; goneContainer: string };
  /** A fresh config object per instance: each gets its own health state and tail budget, as a new process would. */
  const config = () => loadConfig({ EXEC_DATA_DIR: dir, EXEC_RETENTION_SECONDS: '60' });
  const managers: SessionManager[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'recovery-'));
    const runtime = new FakeRuntime();
    const { manager } = await instance(config(), runtime);
    managers.push(manager);
    const start = () => manager.start({ image: 'img', command: ['x'], env: {}, tty: false, openStdin: false });
    const finished = await start();
    runtime.runs[0].sink.write('stdout', Buffer.from('done\n'));
    runtime.runs[0].end({ exitCode: 4 });
    const running = await start();
    runtime.runs[1].sink.write('stdout', Buffer.from('before\n'));
    const gone = await start();
    runtime.runs[2].sink.write('stderr', Buffer.from('x'));
    await tick();
    expect(finished.outcome).toMatchObject({ exitCode: 4 });
    expect(running.files.bytes).toEqual({ stdout: 7, stderr: 0 });
    // The crash: this instance is dropped with two sessions running (no exit.json for them).
    before = { finished: finished.id, running: running.id, gone: gone.id, runningContainer: running.containerId, goneContainer: gone.containerId };
  });
  afterEach(() => {
    for (const m of managers.splice(0)) m.onModuleDestroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads finished sessions as they were, re-adopts a running one from where its record ends, and ends one whose container is gone with an error', async () => {
    const runtime = new FakeRuntime();
    const docker = new FakeRecovery([{ containerId: before.runningContainer, sessionId: before.running, running: true }]);
    const c = config();
    const { manager, recovery, health } = await instance(c, runtime, docker);
    managers.push(manager);
    await recovery.onApplicationBootstrap();
    // Health says NOT_SERVING until every unfinished session is re-adopted or ended.
    expect(health.reasons).toEqual(['loading and re-adopting sessions']);
    await recovery.ready;
    expect(health.reasons).toEqual([]);

    const finished = manager.get(before.finished);
    expect(finished.outcome).toMatchObject({ exitCode: 4, record: { reason: 'exited', exitCode: 4 } });
    expect(stdoutOf(finished.files.dir)).toBe('done\n');

    // Re-adopted from what was recorded: its byte counts and last bytes, so Docker's log is read on from there.
    expect(docker.readopts).toHaveLength(1);
    const [readopt] = docker.readopts;
    expect(readopt.spec).toMatchObject({ containerId: before.runningContainer, recorded: { stdout: 7, stderr: 0 } });
    expect(readopt.spec.recordedTail.stdout.toString()).toBe('before\n');
    const running = manager.get(before.running);
    expect(running.running).toBe(true);
    readopt.sink.write('stdout', Buffer.from('after\n'));
    readopt.end({ exitCode: 0 });
    await tick();
    expect(running.outcome).toMatchObject({ exitCode: 0 });
    expect(stdoutOf(running.files.dir)).toBe('before\nafter\n');
    expect(runtime.removed).toContain(before.runningContainer);

    // Its container no longer exists: the outcome is unknown, which is an error, never an exit code.
    const gone = manager.get(before.gone);
    expect(gone.outcome).not.toHaveProperty('exitCode');
    expect(gone.outcome).toMatchObject({ error: { kind: 'aborted', message: expect.stringContaining('no longer exists') } });
  });

  it('when Docker cannot list its containers, unfinished sessions end UNAVAILABLE saying so; finished ones load', async () => {
    const { manager, recovery } = await instance(config(), new FakeRuntime(), new FakeRecovery(new Error('connect ENOENT /var/run/docker.sock')));
    managers.push(manager);
    await recovery.onApplicationBootstrap();
    await recovery.ready;
    expect(manager.get(before.finished).outcome).toMatchObject({ exitCode: 4 });
    for (const id of [before.running, before.gone])
      expect(manager.get(id).outcome).toMatchObject({ error: { kind: 'unavailable', message: expect.stringContaining('Docker could not be asked') } });
  });

  it('leaves a folder whose meta.json is unreadable on disk, unloaded, and loads the others', async () => {
    const c = config();
    const damaged = join(dir, 'sessions', before.gone);
    writeFileSync(join(damaged, 'meta.json'), '{ not json');
    const docker = new FakeRecovery([{ containerId: before.runningContainer, sessionId: before.running, running: true }]);
    const { manager, recovery } = await instance(c, new FakeRuntime(), docker);
    managers.push(manager);
    await recovery.onApplicationBootstrap();
    await recovery.ready;
    expect(() => manager.get(before.gone)).toThrow(expect.objectContaining({ kind: 'not_found' }));
    expect(existsSync(damaged)).toBe(true);
    expect(manager.get(before.finished).outcome).toMatchObject({ exitCode: 4 });
    expect(docker.readopts.map((r) => r.spec.containerId)).toEqual([before.runningContainer]);
  });

  it('treats a meta.json whose fields are wrong as an unreadable one: the folder is left on disk, unloaded', async () => {
    const damaged = join(dir, 'sessions', before.gone);
    const meta = JSON.parse(readFileSync(join(damaged, 'meta.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(damaged, 'meta.json'), JSON.stringify({ ...meta, kind: 'job', tty: 'yes' }));
    const { manager, recovery } = await instance(config(), new FakeRuntime(), new FakeRecovery([]));
    managers.push(manager);
    await recovery.onApplicationBootstrap();
    await recovery.ready;
    expect(() => manager.get(before.gone)).toThrow(expect.objectContaining({ kind: 'not_found' }));
    expect(existsSync(damaged)).toBe(true);
    expect(manager.get(before.finished).outcome).toMatchObject({ exitCode: 4 });
  });
});
