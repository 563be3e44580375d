import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../common/config/exec-config';
import { CONTAINER_EVENTS, CONTAINER_RECOVERY, CONTAINER_RUNTIME, EXEC_CONFIG, ROOT_LOGGER } from '../../common/tokens';
import type { ContainerEventsSource, ContainerRecovery, ContainerRuntime, ManagedContainer } from '../../executor';
import { TeeWriterFactory } from '../output/tee-writer';
import { TailBudget, tailBudgetOf } from '../output/tail-budget';
import { ContainerReconciler } from './container-reconciler';
import { SessionManager } from './session-manager';

/** The executor's ports replaced through their DI tokens: no Docker class is named here. */
class FakeExecutor implements ContainerRuntime, ContainerRecovery, ContainerEventsSource {
  containers: ManagedContainer[] = [];
  removed: string[] = [];
  listings = 0;
  isConnected = true;
  private readonly listeners = new Set<() => void>();
  async ping() {}
  async run(): Promise<never> {
    throw new Error('not used');
  }
  async exec(): Promise<never> {
    throw new Error('not used');
  }
  /** As Docker: a removed container is not listed again. */
  async remove(id: string) {
    this.removed.push(id);
    this.containers = this.containers.filter((c) => c.containerId !== id);
  }
  async listManaged() {
    this.listings++;
    return this.containers;
  }
  async readopt(): Promise<never> {
    throw new Error('not used');
  }
  async readoptExec(): Promise<never> {
    throw new Error('not used');
  }
  async execState() {
    return undefined;
  }
  onReconnected(listener: () => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  reconnect() {
    for (const l of this.listeners) l();
  }
}

describe('ContainerReconciler', () => {
  let dir: string;
  let fake: FakeExecutor;
  const build = async (withRecovery: boolean) => {
    const config = loadConfig({ EXEC_DATA_DIR: dir });
    const moduleRef = await Test.createTestingModule({
      providers: [
        ContainerReconciler,
        SessionManager,
        TeeWriterFactory,
        { provide: TailBudget, useValue: tailBudgetOf(config) },
        { provide: EXEC_CONFIG, useValue: config },
        { provide: ROOT_LOGGER, useValue: pino({ level: 'silent' }) },
        { provide: CONTAINER_RUNTIME, useValue: fake },
        { provide: CONTAINER_EVENTS, useValue: fake },
        ...(withRecovery ? [{ provide: CONTAINER_RECOVERY, useValue: fake }] : []),
      ],
    }).compile();
    await moduleRef.init();
    return moduleRef;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'reconciler-'));
    fake = new FakeExecutor();
    fake.containers = [
      { containerId: 'stopped-orphan', sessionId: 'gone', running: false },
      { containerId: 'running-orphan', sessionId: 'gone', running: true },
    ];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('after an events reconnect removes stopped containers no session owns, never a running one', async () => {
    const moduleRef = await build(true);
    fake.reconnect();
    for (const end = Date.now() + 5000; !fake.removed.length && Date.now() < end;) await new Promise((r) => setTimeout(r, 5));
    // The pass the reconnect started has removed the stopped one; one more pass (it waits for any still
    // under way) ends where every pass must: the running container is still there.
    await moduleRef.get(ContainerReconciler).reconcile('test');
    expect(fake.removed).toEqual(['stopped-orphan']);
    expect(fake.containers.map((c) => c.containerId)).toEqual(['running-orphan']);
    await moduleRef.close();
  });

  it('without a recovery port lists nothing and removes nothing', async () => {
    const moduleRef = await build(false);
    expect(await moduleRef.get(ContainerReconciler).reconcile('test')).toBe(0);
    fake.reconnect();
    // Waits for the pass the reconnect started (a pass under way is what reconcile() returns).
    expect(await moduleRef.get(ContainerReconciler).reconcile('test')).toBe(0);
    expect(fake.removed).toEqual([]);
    expect(fake.listings).toBe(0);
    await moduleRef.close();
  });
});
