import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CONTAINER_CONTROL } from '../common/tokens';
import type { ContainerControl, ResourceSample, SampleWatch } from '../executor/container-control';
import { cpuPercent } from '../executor/stats-sample';
import type { LifecycleEvent } from '../lifecycle/lifecycle-event';
import { LifecycleBus } from '../lifecycle/lifecycle-bus';

export interface ResourceUsage {
  cpuPercent: number;
  memoryBytes: number;
  memoryLimit: number;
  ioReadBytes: number;
  ioWriteBytes: number;
}

/** A window shorter than this gives a noisy percentage; an older sample is used instead. */
const MIN_WINDOW_NS = 100_000_000n;
/** With no earlier sample at all (a container started before this process), two readings this far apart. */
const COLD_WINDOW_MS = 100;
const MAX_WATCHED = 256;

/**
 * Keeps the previous CPU reading of every running managed container, so that ContainerStatus can give a
 * real CPU percentage on its FIRST call without waiting: Docker's streaming stats is opened when a
 * container starts (lifecycle `started`) and closed when it exits. A status call takes one fresh
 * one-shot reading (milliseconds) and computes CPU against the newest held reading at least 100 ms older.
 */
@Injectable()
export class ResourceSampler implements OnModuleInit, OnModuleDestroy {
  private readonly watches = new Map<string, { watch: SampleWatch; samples: ResourceSample[] }>();
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

  /** Current usage of a running (or paused) container. */
  async usage(containerId: string): Promise<ResourceUsage> {
    const now = await this.control.sample(containerId);
    let prev = this.previous(containerId, now);
    if (!prev) {
      // Not watched (started before this process): watch from now on, and measure a short window once.
      this.watch(containerId);
      await new Promise((r) => setTimeout(r, COLD_WINDOW_MS));
      const later = await this.control.sample(containerId);
      this.remember(containerId, now);
      this.remember(containerId, later);
      return toUsage(now, later);
    }
    // Not remembered: a burst of status calls must not push the background readings out of the window.
    return toUsage(prev, now);
  }

  private previous(containerId: string, now: ResourceSample): ResourceSample | undefined {
    const samples = this.watches.get(containerId)?.samples ?? [];
    for (let i = samples.length - 1; i >= 0; i--) {
      if (now.readAtNs - samples[i].readAtNs >= MIN_WINDOW_NS) return samples[i];
    }
    return undefined;
  }

  private onLifecycle(e: LifecycleEvent): void {
    if (!e.containerId) return;
    if (e.type === 'started' || e.type === 'resumed') this.watch(e.containerId);
    else if (e.type === 'exited' || e.type === 'destroyed' || e.type === 'unregistered') this.unwatch(e.containerId);
  }

  private watch(containerId: string): void {
    if (this.watches.has(containerId)) return;
    if (this.watches.size >= MAX_WATCHED) this.unwatch(this.watches.keys().next().value!);
    const entry = { samples: [] as ResourceSample[], watch: undefined as unknown as SampleWatch };
    this.watches.set(containerId, entry);
    entry.watch = this.control.watchSamples(containerId, (s) => this.remember(containerId, s));
  }

  private unwatch(containerId: string): void {
    this.watches.get(containerId)?.watch.stop();
    this.watches.delete(containerId);
  }

  private remember(containerId: string, s: ResourceSample): void {
    const entry = this.watches.get(containerId);
    if (!entry) return;
    const last = entry.samples[entry.samples.length - 1];
    if (last && s.readAtNs <= last.readAtNs) return; // keep them in time order
    entry.samples.push(s);
    if (entry.samples.length > 4) entry.samples.shift();
  }
}

function toUsage(prev: ResourceSample, now: ResourceSample): ResourceUsage {
  return {
    cpuPercent: cpuPercent(prev, now),
    memoryBytes: now.memoryBytes,
    memoryLimit: now.memoryLimit,
    ioReadBytes: now.ioReadBytes,
    ioWriteBytes: now.ioWriteBytes,
  };
}
