/**
 * Who reported a transition. The same real transition can be reported by two sources (the executor
 * and Docker's events both see a container start); the bus publishes it once (see transition-dedupe.ts).
 */
export type LifecycleSource = 'executor' | 'docker' | 'control' | 'service';

/**
 * Transitions of one container. The executor reports registered | started | exited | unregistered;
 * Docker's events created | started | paused | resumed | exited | oom | killed | destroyed; the control
 * RPCs (ContainerPause/Resume/Signal) paused | resumed | killed.
 */
export type ContainerEventType = 'registered' | 'created' | 'started' | 'paused' | 'resumed' | 'exited' | 'oom' | 'killed' | 'destroyed' | 'unregistered';
/** Service-wide: the Docker events connection lost, and back (every subscriber gets them). */
export type ServiceEventType = 'events_disconnected' | 'events_reconnected';
/** Every `type` of a LifecycleEvent; `dropped` is made per subscriber (events it did not get). */
export type LifecycleEventType = ContainerEventType | ServiceEventType | 'dropped';
/** Docker-style status after a transition; '' on service-wide and `dropped` events. */
export type StatusAfter = 'created' | 'running' | 'paused' | 'exited' | 'removed' | '';

/** One real transition of a managed container (or of the service's view of it). */
export interface LifecycleEvent {
  /** Monotonically increasing within this process; subscribers resume after an id they saw. */
  id: number;
  /** Empty for service-wide events (events_disconnected / events_reconnected / dropped). */
  containerId: string;
  type: LifecycleEventType;
  status: StatusAfter;
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
  /** Defaults to 'executor'. */
  source?: LifecycleSource;
};

/** Service-wide event types: delivered to every subscriber whatever its container filter. */
export const SERVICE_EVENT_TYPES: ReadonlySet<LifecycleEventType> = new Set<ServiceEventType>(['events_disconnected', 'events_reconnected']);

/** Service-wide events reach every subscriber; container events the unfiltered and those of that container (full id or prefix). */
export function matches(e: LifecycleEvent, containerId?: string): boolean {
  return !containerId || e.containerId.startsWith(containerId) || SERVICE_EVENT_TYPES.has(e.type);
}
