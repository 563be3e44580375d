/**
 * Who reported a transition. The same real transition can be reported by two sources (the executor
 * and Docker's events both see a container start); the bus publishes it once (see transition-dedupe.ts).
 */
export type LifecycleSource = 'executor' | 'docker' | 'control' | 'service';

/** One real transition of a managed container (or of the service's view of it). */
export interface LifecycleEvent {
  /** Monotonically increasing within this process; subscribers resume after an id they saw. */
  id: number;
  /** Empty for service-wide events (events_disconnected / events_reconnected / dropped). */
  containerId: string;
  /**
   * executor: registered | started | exited | unregistered;
   * Docker events: created | started | paused | resumed | exited | oom | killed | destroyed;
   * control (ContainerPause/Resume/Signal): paused | resumed | killed;
   * service-wide: events_disconnected | events_reconnected; per subscriber: dropped.
   */
  type: string;
  /** Docker-style status after the transition: created, running, paused, exited, removed … */
  status: string;
  /** Unix ns. */
  timestampNs: bigint;
  exitCode?: number;
  /** Signal number for `killed`. */
  signal?: number;
  message?: string;
  sessionId?: string;
  /** Set when the transition concerns one exec of the container (a signal sent to an exec). */
  execId?: string;
  source: LifecycleSource;
  /** Only on a `dropped` event: how many events this subscriber did not get. */
  dropped?: number;
}

export type NewLifecycleEvent = Omit<LifecycleEvent, 'id' | 'timestampNs' | 'source' | 'dropped'> & {
  timestampNs?: bigint;
  /** Defaults to 'executor' (the first publisher, which predates sources). */
  source?: LifecycleSource;
};

/** Service-wide event types: delivered to every subscriber whatever its container filter. */
export const SERVICE_EVENT_TYPES = new Set(['events_disconnected', 'events_reconnected']);

/** Service-wide events reach every subscriber; container events the unfiltered and those of that container (full id or prefix). */
export function matches(e: LifecycleEvent, containerId?: string): boolean {
  return !containerId || e.containerId.startsWith(containerId) || SERVICE_EVENT_TYPES.has(e.type);
}
