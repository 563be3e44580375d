import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CONTAINER_CONTROL } from '../../common/tokens';
import { cpuPercent, type ContainerControl, type ResourceSample, type SampleWatch } from '../../executor';
import type { LifecycleEvent } from '../../lifecycle/lifecycle-event';
import { LifecycleBus } from '../../lifecycle/lifecycle-bus';
import { BoundedSet } from '../../common/bounded';

export interface ResourceUsage {
  cpuPercent: number;
  memoryBytes: number;
  memoryLimit: number;
  ioReadBytes: number;
  ioWriteBytes: number;
  /** How many readings the figures come from: 2 all measured, 1 no CPU percent yet (0), 0 none yet (all 0). */
  readings: 0 | 1 | 2;
}

/** How long a status call may wait for the readings of a container not watched yet. */
const COLD_WAIT_MS = 2500;
const MAX_WATCHED = 256;
/** Containers remembered as stopped, so that a status call racing their exit does not wait. */
const MAX_ENDED = 1024;

/**
 * Keeps the latest resource readings of every running managed container, so that ContainerStatus
 * answers in milliseconds with a real CPU percentage on its FIRST call. Docker's streaming stats is
 * opened when a container starts (lifecycle `started`) and gives a reading about every second; a status
 * call computes CPU between the two newest readings and reports memory and I/O of the newest (so the
 * figures are at most ~1 s old). Docker's one-shot stats is no substitute: it answers only on the
 * collector's next 1 s tick (docs/LIFECYCLE.md).
 * A container not watched yet (started before this process, or less than ~1 s ago) is watched from
 * the first status call, which then waits for two readings (at most COLD_WAIT_MS, once) and answers
 * with what it has (`readings` says how many: Docker's first one can take over 2 s). A container that
 * stops meanwhile (lifecycle `exited`, or Docker's empty reading of a stopped container) ends the wait
 * at once: usage() then answers undefined, and the caller reports the final state instead.
 */
@Injectable()
export class ResourceSampler implements OnModuleInit, OnModuleDestroy {
  private readonly watches = new Map<string, Watched>();
  private readonly ended = new BoundedSet<string>(MAX_ENDED);
  private unsubscribe?: () => void;

  constructor(
    @Inject(CONTAINER_CONTROL) private readonly control: ContainerControl,
    private readonly bus: LifecycleBus,
  ) {}

  onModuleInit(): void {
    const sub = this.bus.subscribe((e) => this.onLifecycle(e));
    this.unsubscribe = () => sub.unsubscribe();
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    for (const w of this.watches.values()) w.watch.stop();
    this.watches.clear();
  }

  get watchedCount(): number {
    return this.watches.size;
  }

  /** Current usage of a running (or paused) container (from fewer than two readings in its first seconds); undefined once it has stopped. */
  async usage(containerId: string): Promise<ResourceUsage | undefined> {
    if (this.ended.has(containerId)) return undefined;
    this.watch(containerId);
    const entry = this.watches.get(containerId)!;
    if (entry.samples.length < 2) await this.readings(entry, 2, COLD_WAIT_MS);
    if (entry.stopped) return undefined;
    const n = entry.samples.length;
    if (n === 0) return { cpuPercent: 0, memoryBytes: 0, memoryLimit: 0, ioReadBytes: 0, ioWriteBytes: 0, readings: 0 };
    if (n === 1) return { ...toUsage(entry.samples[0], entry.samples[0]), cpuPercent: 0, readings: 1 };
    return toUsage(entry.samples[n - 2], entry.samples[n - 1]);
  }

  private readings(entry: Watched, count: number, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(finish, timeoutMs);
      function finish() {
        clearTimeout(timer);
        entry.waiters.delete(check);
        resolve();
      }
      const check = () => (entry.stopped || entry.samples.length >= count) && finish();
      entry.waiters.add(check);
      check();
    });
  }

  private onLifecycle(e: LifecycleEvent): void {
    if (!e.containerId) return;
    if (e.type === 'started' || e.type === 'resumed') {
      this.ended.delete(e.containerId);
      this.watch(e.containerId);
    } else if (e.type === 'exited' || e.type === 'destroyed' || e.type === 'unregistered') this.stopped(e.containerId);
  }

  /** The container is not running any more: end its watch and every wait on it. */
  private stopped(containerId: string): void {
    this.ended.add(containerId);
    this.unwatch(containerId);
  }

  private watch(containerId: string): void {
    if (this.watches.has(containerId)) return;
    if (this.watches.size >= MAX_WATCHED) this.unwatch(this.watches.keys().next().value!);
    const entry: Watched = { samples: [], watch: undefined as unknown as SampleWatch, waiters: new Set(), stopped: false };
    this.watches.set(containerId, entry);
    entry.watch = this.control.watchSamples(
      containerId,
      (s) => this.remember(containerId, s),
      () => this.watches.get(containerId) === entry && this.unwatch(containerId),
    );
  }

  private unwatch(containerId: string): void {
    const entry = this.watches.get(containerId);
    if (!entry) return;
    entry.stopped = true;
    entry.watch?.stop();
    this.watches.delete(containerId);
    for (const w of [...entry.waiters]) w();
  }

  private remember(containerId: string, s: ResourceSample): void {
    const entry = this.watches.get(containerId);
    if (!entry) return;
    const last = entry.samples[entry.samples.length - 1];
    if (last && s.readAtNs <= last.readAtNs) return; // keep them in time order
    entry.samples.push(s);
    if (entry.samples.length > 3) entry.samples.shift();
    for (const w of [...entry.waiters]) w();
  }
}

interface Watched {
  watch: SampleWatch;
  /** Newest last, in Docker's read-time order. */
  samples: ResourceSample[];
  waiters: Set<() => void>;
  /** Unwatched (the container stopped, or room was needed): waits on it end. */
  stopped: boolean;
}

function toUsage(prev: ResourceSample, now: ResourceSample): ResourceUsage {
  return {
    cpuPercent: cpuPercent(prev, now),
    memoryBytes: now.memoryBytes,
    memoryLimit: now.memoryLimit,
    ioReadBytes: now.ioReadBytes,
    ioWriteBytes: now.ioWriteBytes,
    readings: 2,
  };
}
