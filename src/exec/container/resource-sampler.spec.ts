import { Test, type TestingModule } from '@nestjs/testing';
import { CONTAINER_CONTROL } from '../../common/tokens';
import type { ContainerControl, ResourceSample, SampleWatch } from '../../executor';
import { LifecycleBus } from '../../lifecycle/lifecycle-bus';
import type { LifecycleEventType, NewLifecycleEvent } from '../../lifecycle/lifecycle-event';
import { ResourceSampler } from './resource-sampler';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const SECOND_NS = 1_000_000_000n;

/** One watchSamples call: the test plays Docker's stats stream through it. */
interface FakeWatch {
  containerId: string;
  stopped: boolean;
  sample(s: ResourceSample): void;
  /** Docker's empty reading of a stopped container (or the stream ending). */
  end(): void;
}

/** Docker's streaming stats replaced through CONTAINER_CONTROL: readings come when the test gives them. */
class FakeControl implements Partial<ContainerControl> {
  readonly watches: FakeWatch[] = [];
  watchSamples(containerId: string, onSample: (s: ResourceSample) => void, onStopped?: () => void): SampleWatch {
    const w: FakeWatch = { containerId, stopped: false, sample: onSample, end: () => onStopped?.() };
    this.watches.push(w);
    return { stop: () => (w.stopped = true) };
  }
  of(containerId: string): FakeWatch[] {
    return this.watches.filter((w) => w.containerId === containerId);
  }
  /** The one running watch of a container. */
  live(containerId: string): FakeWatch {
    const live = this.of(containerId).filter((w) => !w.stopped);
    expect(live).toHaveLength(1);
    return live[0];
  }
}

/** A reading at `second` s with `cpuSeconds` of CPU used so far. */
const reading = (second: number, cpuSeconds: number, extra: Partial<ResourceSample> = {}): ResourceSample => ({
  readAtNs: BigInt(second) * SECOND_NS,
  cpuTotalNs: cpuSeconds * 1e9,
  memoryBytes: 1000 * second,
  memoryLimit: 1 << 30,
  ioReadBytes: 10 * second,
  ioWriteBytes: 20 * second,
  ...extra,
});

const lifecycle = (containerId: string, type: LifecycleEventType): NewLifecycleEvent => ({ containerId, type, status: '', source: 'docker' });

/** Whether `p` has settled once pending reactions ran (fake timers do not hold promise reactions). */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
}

describe('ResourceSampler', () => {
  let moduleRef: TestingModule;
  let sampler: ResourceSampler;
  let bus: LifecycleBus;
  let control: FakeControl;

  beforeEach(async () => {
    jest.useFakeTimers();
    control = new FakeControl();
    moduleRef = await Test.createTestingModule({
      providers: [ResourceSampler, LifecycleBus, { provide: CONTAINER_CONTROL, useValue: control }],
    }).compile();
    await moduleRef.init();
    sampler = moduleRef.get(ResourceSampler);
    bus = moduleRef.get(LifecycleBus);
  });
  afterEach(async () => {
    await moduleRef.close();
    jest.useRealTimers();
  });

  describe('a container seen starting', () => {
    it('is watched from its `started` (or `resumed`) event, once however often it is reported', () => {
      bus.publish(lifecycle(A, 'started'));
      bus.publish(lifecycle(A, 'started'));
      bus.publish(lifecycle(A, 'resumed'));
      bus.publish(lifecycle(B, 'resumed'));
      bus.publish(lifecycle(B, 'paused'));
      expect(control.watches.map((w) => w.containerId)).toEqual([A, B]);
      expect(sampler.watchedCount).toBe(2);
    });

    it('answers at once from its two newest readings: CPU between them, memory and I/O of the newest', async () => {
      bus.publish(lifecycle(A, 'started'));
      const w = control.live(A);
      w.sample(reading(1, 0));
      w.sample(reading(2, 0.5));
      const first = sampler.usage(A);
      expect(await settled(first)).toBe(true);
      expect(await first).toEqual({ cpuPercent: 50, memoryBytes: 2000, memoryLimit: 1 << 30, ioReadBytes: 20, ioWriteBytes: 40, readings: 2 });
      w.sample(reading(3, 2.5)); // two cores busy
      expect(await sampler.usage(A)).toMatchObject({ cpuPercent: 200, memoryBytes: 3000, readings: 2 });
    });

    it('ignores a reading not newer than the last one (keeps them in time order)', async () => {
      bus.publish(lifecycle(A, 'started'));
      const w = control.live(A);
      w.sample(reading(1, 0));
      w.sample(reading(3, 1));
      w.sample(reading(2, 5, { memoryBytes: 99 }));
      w.sample(reading(3, 9, { memoryBytes: 99 }));
      expect(await sampler.usage(A)).toMatchObject({ cpuPercent: 50, memoryBytes: 3000 });
    });
  });

  describe('a container not watched yet', () => {
    it('is watched from the first status call, which waits for two readings', async () => {
      const pending = sampler.usage(A);
      const w = control.live(A);
      w.sample(reading(1, 0));
      expect(await settled(pending)).toBe(false);
      w.sample(reading(2, 0.25));
      expect(await settled(pending)).toBe(true);
      expect(await pending).toMatchObject({ cpuPercent: 25, readings: 2 });
      expect(control.of(A)).toHaveLength(1); // later calls use the same watch
      await sampler.usage(A);
      expect(control.of(A)).toHaveLength(1);
    });

    it('waits at most 2.5 s, then answers with the one reading it has (no CPU percent yet)', async () => {
      const pending = sampler.usage(A);
      control.live(A).sample(reading(1, 0.7));
      await jest.advanceTimersByTimeAsync(2499);
      expect(await settled(pending)).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(await pending).toEqual({ cpuPercent: 0, memoryBytes: 1000, memoryLimit: 1 << 30, ioReadBytes: 10, ioWriteBytes: 20, readings: 1 });
    });

    it('answers zeros with `readings: 0` when no reading came in time', async () => {
      const pending = sampler.usage(A);
      await jest.advanceTimersByTimeAsync(2500);
      expect(await pending).toEqual({ cpuPercent: 0, memoryBytes: 0, memoryLimit: 0, ioReadBytes: 0, ioWriteBytes: 0, readings: 0 });
      expect(sampler.watchedCount).toBe(1); // still watched: the next call may have readings
    });
  });

  describe('a container that stops', () => {
    it.each<LifecycleEventType>(['exited', 'destroyed', 'unregistered'])('ends a waiting status call at once on `%s`: usage is undefined', async (type) => {
      const pending = sampler.usage(A);
      const w = control.live(A);
      bus.publish(lifecycle(A, type));
      expect(await settled(pending)).toBe(true);
      expect(await pending).toBeUndefined();
      expect(w.stopped).toBe(true);
      expect(sampler.watchedCount).toBe(0);
    });

    it('is not watched again by a status call after it stopped, until it starts again', async () => {
      bus.publish(lifecycle(A, 'started'));
      bus.publish(lifecycle(A, 'exited'));
      expect(await sampler.usage(A)).toBeUndefined();
      expect(control.of(A)).toHaveLength(1);
      bus.publish(lifecycle(A, 'started'));
      const w = control.live(A);
      expect(control.of(A)).toHaveLength(2);
      w.sample(reading(1, 0));
      w.sample(reading(2, 1));
      expect(await sampler.usage(A)).toMatchObject({ cpuPercent: 100, readings: 2 });
    });

    it('ends a waiting status call when Docker says the container is not running', async () => {
      const pending = sampler.usage(A);
      const w = control.live(A);
      w.sample(reading(1, 0));
      w.end();
      expect(await settled(pending)).toBe(true);
      expect(await pending).toBeUndefined();
      expect(w.stopped).toBe(true);
      expect(sampler.watchedCount).toBe(0);
    });

    it('a stale end of an earlier watch leaves the current watch alone', async () => {
      bus.publish(lifecycle(A, 'started'));
      const old = control.live(A);
      bus.publish(lifecycle(A, 'exited'));
      bus.publish(lifecycle(A, 'started'));
      const current = control.live(A);
      old.end();
      expect(current.stopped).toBe(false);
      expect(sampler.watchedCount).toBe(1);
      current.sample(reading(1, 0));
      current.sample(reading(2, 0.1));
      expect((await sampler.usage(A))?.cpuPercent).toBeCloseTo(10);
    });

    it('ignores service-wide events and other containers’ stops', async () => {
      bus.publish(lifecycle(A, 'started'));
      bus.publish({ containerId: '', type: 'events_disconnected', status: '', source: 'service' });
      bus.publish(lifecycle(B, 'exited'));
      expect(control.live(A).stopped).toBe(false);
      expect(sampler.watchedCount).toBe(1);
    });
  });

  describe('bounds and shutdown', () => {
    it('watches at most 256 containers, giving up the oldest watch for a new one', () => {
      for (let i = 0; i < 257; i++) bus.publish(lifecycle(`c${i}-`.padEnd(64, '0'), 'started'));
      expect(sampler.watchedCount).toBe(256);
      expect(control.watches[0].stopped).toBe(true);
      expect(control.watches.filter((w) => w.stopped)).toHaveLength(1);
    });

    it('on shutdown stops every watch and follows the bus no more', async () => {
      bus.publish(lifecycle(A, 'started'));
      bus.publish(lifecycle(B, 'started'));
      await moduleRef.close();
      expect(control.watches.every((w) => w.stopped)).toBe(true);
      expect(sampler.watchedCount).toBe(0);
      bus.publish(lifecycle('c'.repeat(64), 'started'));
      expect(control.watches).toHaveLength(2);
    });
  });
});
